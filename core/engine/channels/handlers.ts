// The channels commands: list (with direct and group conversations), create, join, add, remove, leave, topic, roles.
import type { Handlers } from '../../api/dispatch.ts';
import { newChannelMetaKey } from '../../protocol/channel-meta.ts';
import type { EngineContext } from '../context.ts';
import { channelConversationId } from '../conversations/ref.ts';
import type { ConversationRouter } from '../conversations/routing.ts';
import { EngineError } from '../errors.ts';
import { channelRows, conversationRows, conversationView, upsertChannelStatement } from '../history.ts';
import { RelayError } from '../relay-http.ts';
import type { ChannelKeySharing } from './key-sharing.ts';
import type { ChannelDirectory } from './members.ts';
import type { ChannelMetadata } from './metadata.ts';
import { newChannelId } from './membership-log.ts';
import { rotationFlagStatement } from './rotation.ts';
import type { Retention } from '../retention/retention.ts';

type ChannelHandlers = Pick<Handlers, 'channels.create' | 'channels.join' | 'channels.add' | 'channels.remove' | 'channels.leave' | 'channels.setTopic' | 'channels.setRole' | 'channels.members'>;

/** The relay's refusals that a person can act on, in their terms. */
function relayRefusal(error: unknown): never {
  if (error instanceof RelayError && (error.status === 403 || error.status === 409)) throw new EngineError('FORBIDDEN', error.message);
  if (error instanceof RelayError && error.status === 404) throw new EngineError('NOT_FOUND', error.message);
  throw error;
}

export function channelHandlers(ctx: EngineContext, channels: ChannelDirectory, routing: ConversationRouter, metadata: ChannelMetadata, sharing: ChannelKeySharing, retention?: Retention): ChannelHandlers {
  return {
    'channels.create': async ({ name, topic, open }) => {
      // The relay cannot tell whether a name is taken (it sees none), so the check is against every name this
      // device can read: the channels it is in, and the open channels listed to the whole organisation.
      await channels.sync();
      const taken = (await ctx.http.listChannels()).some((c) => c.role === null && metadata.listedName(c) === name);
      if (taken || (await conversationRows(ctx.vault, "kind = 'channel' AND name = ?", [name])).length) throw new EngineError('CONFLICT', `#${name} already exists`);
      const key = newChannelMetaKey();
      const setAt = ctx.now();
      const channelId = newChannelId();
      const created = await ctx.http.createChannel(metadata.seal(key, 'name', { text: name, setAt }, open ? name : null), metadata.seal(key, 'topic', { text: topic ?? '', setAt }), open,
        channelId, channels.logs.genesis(channelId, open ?? false));
      if (created.channelId !== channelId) throw new EngineError('HOSTILE_SERVER', 'the relay created the channel under another id');
      await ctx.vault.transaction([
        upsertChannelStatement({ id: channelConversationId(created.channelId), remoteId: created.channelId, name, topic: topic || null, nameSetAt: setAt, topicSetAt: setAt, role: 'owner' }),
        metadata.keyStatement(created.channelId, key),
      ]);
      await channels.logs.state(created.channelId, true);
      await ctx.lane.run(() => sharing.shareWith(created.channelId, [ctx.username])); // our other devices
      await retention?.channelCreated(created.channelId).catch((error: Error) => ctx.problem(error));
      const row = (await conversationRows(ctx.vault, 'id = ?', [channelConversationId(created.channelId)]))[0]!;
      return conversationView(ctx.vault, row, [ctx.username], ctx.now());
    },
    'channels.add': async ({ conversation, username }) => {
      const channelId = await routing.channelFromCaller(conversation);
      const accountId = await ctx.directory.accountIdOf(username);
      await channels.logs.change(channelId, { change: 'add', targets: [username] }, (log) => ctx.http.addMembers(channelId, [accountId], log)).catch(relayRefusal);
      // what the channel is called and about, for its new member (and the relay never sees it)
      await ctx.lane.run(() => sharing.shareWith(channelId, [username]));
      return {};
    },
    'channels.remove': async ({ conversation, username }) => {
      const channelId = await routing.channelFromCaller(conversation);
      const accountId = await ctx.directory.accountIdOf(username);
      await channels.logs.change(channelId, { change: 'remove', targets: [username] }, (log) => ctx.http.removeMember(channelId, accountId, log)).catch(relayRefusal);
      await ctx.vault.transaction([rotationFlagStatement(channelId)]);
      return {};
    },
    'channels.join': async ({ channel }) => {
      const open = (await ctx.http.listChannels()).find((c) => c.role === null && metadata.listedName(c) === channel);
      if (!open) throw new EngineError('NOT_FOUND', `no open channel named #${channel} (private channels need an invitation)`);
      await channels.logs.change(open.channelId, { change: 'join', targets: [ctx.username] }, (log) => ctx.http.joinChannel(open.channelId, log)).catch(relayRefusal);
      await channels.sync();
      return (await channels.view(open.channelId))!;
    },
    'channels.leave': async ({ conversation }) => {
      const channelId = await routing.channelFromCaller(conversation);
      await channels.logs.change(channelId, { change: 'leave', targets: [ctx.username] }, (log) => ctx.http.leaveChannel(channelId, log)).catch(relayRefusal);
      await channels.sync();
      return {};
    },
    'channels.setTopic': async ({ conversation, topic }) => {
      const channelId = await routing.channelFromCaller(conversation);
      const { key, fresh } = await ctx.lane.run(() => sharing.keyForWrite(channelId));
      if (fresh) await sharing.delivered(); // a new key reaches the relay before the topic sealed under it
      const stored = (await channelRows(ctx.vault)).get(channelId);
      const setAt = Math.max(ctx.now(), (stored?.topicSetAt ?? 0) + 1); // after the one shown, whatever the clocks say
      await ctx.http.updateChannel(channelId, { topic: metadata.seal(key, 'topic', { text: topic, setAt }) }).catch(relayRefusal);
      await ctx.vault.transaction([{ sql: 'UPDATE conversations SET topic = ?, topic_set_at = ? WHERE id = ?', params: [topic || null, setAt, channelConversationId(channelId)] }]);
      await channels.sync();
      return {};
    },
    'channels.setRole': async ({ conversation, username, role }) => {
      const channelId = await routing.channelFromCaller(conversation);
      const accountId = await ctx.directory.accountIdOf(username);
      await channels.logs.change(channelId, { change: 'role', targets: [username], role }, (log) => ctx.http.setRole(channelId, accountId, role, log)).catch(relayRefusal);
      return {};
    },
    'channels.members': async ({ conversation }) => ({ members: await channels.membersWithRoles(await routing.channelFromCaller(conversation)) }),
  };
}
