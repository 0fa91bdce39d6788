// The channels commands: list (with direct and group conversations), create, join, add, remove, leave, topic, roles.
import type { Handlers } from '../../api/dispatch.ts';
import { utf8 } from '../../crypto/sodium.ts';
import type { EngineContext } from '../context.ts';
import { channelConversationId } from '../conversations/ref.ts';
import type { ConversationRouter } from '../conversations/routing.ts';
import { EngineError } from '../errors.ts';
import { conversationRows, conversationView, upsertConversationStatement } from '../history.ts';
import { RelayError } from '../relay-http.ts';
import { decodeName, type ChannelDirectory } from './members.ts';
import { rotationFlagStatement } from './rotation.ts';

type ChannelHandlers = Pick<Handlers, 'channels.create' | 'channels.join' | 'channels.add' | 'channels.remove' | 'channels.leave' | 'channels.setTopic' | 'channels.setRole'>;

/** The relay's refusals that a person can act on, in their terms. */
function relayRefusal(error: unknown): never {
  if (error instanceof RelayError && (error.status === 403 || error.status === 409)) throw new EngineError('FORBIDDEN', error.message);
  if (error instanceof RelayError && error.status === 404) throw new EngineError('NOT_FOUND', error.message);
  throw error;
}

export function channelHandlers(ctx: EngineContext, channels: ChannelDirectory, routing: ConversationRouter): ChannelHandlers {
  return {
    'channels.create': async ({ name, topic, open }) => {
      await channels.sync();
      const taken = (await ctx.http.listChannels()).some((c) => decodeName(c.name) === name);
      if (taken || (await conversationRows(ctx.vault, "kind = 'channel' AND name = ?", [name])).length) throw new EngineError('CONFLICT', `#${name} already exists`);
      const created = await ctx.http.createChannel(utf8(name), topic ? utf8(topic) : undefined, open);
      await ctx.vault.transaction([upsertConversationStatement({ id: channelConversationId(created.channelId), kind: 'channel', remoteId: created.channelId, name, topic: topic ?? null, role: 'owner' })]);
      const row = (await conversationRows(ctx.vault, 'id = ?', [channelConversationId(created.channelId)]))[0]!;
      return conversationView(ctx.vault, row, [ctx.username], ctx.now());
    },
    'channels.add': async ({ conversation, username }) => {
      const channelId = await routing.channelFromCaller(conversation);
      await ctx.http.addMembers(channelId, [await ctx.directory.accountIdOf(username)]).catch(relayRefusal);
      channels.forget(channelId);
      return {};
    },
    'channels.remove': async ({ conversation, username }) => {
      const channelId = await routing.channelFromCaller(conversation);
      await ctx.http.removeMember(channelId, await ctx.directory.accountIdOf(username)).catch(relayRefusal);
      channels.forget(channelId);
      await ctx.vault.transaction([rotationFlagStatement(channelId)]);
      return {};
    },
    'channels.join': async ({ channel }) => {
      const open = (await ctx.http.listChannels()).find((c) => c.role === null && c.open && decodeName(c.name) === channel);
      if (!open) throw new EngineError('NOT_FOUND', `no open channel named #${channel} (private channels need an invitation)`);
      await ctx.http.joinChannel(open.channelId).catch(relayRefusal);
      channels.forget(open.channelId);
      await channels.sync();
      return (await channels.view(open.channelId))!;
    },
    'channels.leave': async ({ conversation }) => {
      const channelId = await routing.channelFromCaller(conversation);
      await ctx.http.leaveChannel(channelId).catch(relayRefusal);
      await channels.sync();
      return {};
    },
    'channels.setTopic': async ({ conversation, topic }) => {
      const channelId = await routing.channelFromCaller(conversation);
      await ctx.http.updateChannel(channelId, { topic: utf8(topic) }).catch(relayRefusal);
      await channels.sync();
      return {};
    },
    'channels.setRole': async ({ conversation, username, role }) => {
      const channelId = await routing.channelFromCaller(conversation);
      await ctx.http.setRole(channelId, await ctx.directory.accountIdOf(username), role).catch(relayRefusal);
      channels.forget(channelId);
      return {};
    },
  };
}
