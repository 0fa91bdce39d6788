// Display names: each person chooses their own and sends it end to end to everyone they share a conversation with
// (the relay sees only usernames). A name is shown beside the username, never instead of it, so a member cannot
// pass for someone else by choosing their name.
import type { ContactViewT } from '../../api/contract.ts';
import type { Statement } from '../../vault/index.ts';
import type { EngineContext } from '../context.ts';
import { conversationRows } from '../history.ts';
import type { ConversationRouter } from '../conversations/routing.ts';
import type { Outbound } from '../outbound/fanout.ts';

/** Control characters and invisible formatting are not part of a name (they could fake a layout or direction). */
export function cleanDisplayName(name: string): string {
  return name.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, '').trim().slice(0, 64);
}

const displayNameStatement = (username: string, displayName: string): Statement => ({
  sql: 'UPDATE people SET display_name = ? WHERE username = ?', params: [displayName || null, username],
});

export class DisplayNames {
  readonly #ctx: EngineContext;
  readonly #routing: ConversationRouter;
  readonly #outbound: Outbound;

  constructor(ctx: EngineContext, routing: ConversationRouter, outbound: Outbound) {
    this.#ctx = ctx;
    this.#routing = routing;
    this.#outbound = outbound;
  }

  async contacts(): Promise<ContactViewT[]> {
    const rows = await this.#ctx.vault.all<{ username: string; display_name: string | null }>('SELECT username, display_name FROM people WHERE username != ? ORDER BY username', [this.#ctx.username]);
    return rows.map((r) => this.#view(r.username, r.display_name));
  }

  #view(username: string, displayName: string | null): ContactViewT {
    return { username, ...(displayName ? { displayName } : {}), verified: this.#ctx.directory.isVerified(username), identity: this.#ctx.directory.identity(username) };
  }

  /** Sets this user's name and sends it to every conversation this device is in. */
  async set(displayName: string): Promise<void> {
    const name = cleanDisplayName(displayName);
    await this.#ctx.updateProfile({ displayName: name });
    for (const row of await conversationRows(this.#ctx.vault)) {
      const target = await this.#routing.targetOfStored(row.id);
      if (target.kind === 'direct' && target.username === this.#ctx.username) continue;
      await this.#outbound.sendPayload(target, { kind: 'profile', displayName: name, deviceName: null }, null, () => []).catch((error: Error) => this.#ctx.problem(error));
    }
    this.#outbound.flushSoon();
  }

  /** A name arrived from its owner (the payload's authenticated sender). */
  async arrived(username: string, displayName: string): Promise<void> {
    const name = cleanDisplayName(displayName);
    await this.#ctx.vault.transaction([displayNameStatement(username, name)]);
    this.#ctx.emit('contact.updated', this.#view(username, name || null));
  }
}
