// Telling the UI that messages changed: the views are read back from the vault after the change committed.
import type { EngineContext } from '../context.ts';
import { messageViews } from '../history.ts';

export async function emitUpdated(ctx: EngineContext, ids: readonly string[]): Promise<void> {
  for (const view of await messageViews(ctx.vault, [...new Set(ids)])) ctx.emit('message.updated', view);
}
