// A conversation as a typed value. Its ConversationId (the contract's stable name for it) is the kind's letter and
// the remote id: `c:` + the relay's channel id, `d:` + the other person's username, `g:` + a random group id. Only
// this module reads or writes that encoding.
export type ConversationRef =
  | { kind: 'channel'; channelId: string }
  | { kind: 'direct'; username: string }
  | { kind: 'group'; groupId: string };

export type ConversationKind = ConversationRef['kind'];

const PREFIX = { channel: 'c:', direct: 'd:', group: 'g:' } as const;

export const channelRef = (channelId: string): ConversationRef => ({ kind: 'channel', channelId });
export const directRef = (username: string): ConversationRef => ({ kind: 'direct', username });
export const groupRef = (groupId: string): ConversationRef => ({ kind: 'group', groupId });

/** The remote half of a reference: the channel id, the username, or the group id. */
export function remoteId(ref: ConversationRef): string {
  switch (ref.kind) {
    case 'channel': return ref.channelId;
    case 'direct': return ref.username;
    case 'group': return ref.groupId;
  }
}

export function conversationId(ref: ConversationRef): string {
  return PREFIX[ref.kind] + remoteId(ref);
}

export const channelConversationId = (channelId: string) => conversationId(channelRef(channelId));
export const directConversationId = (username: string) => conversationId(directRef(username));
export const groupConversationId = (groupId: string) => conversationId(groupRef(groupId));

/** The reference a ConversationId names, or null when it is not one (an id from a caller is checked here). */
export function parseConversationId(id: string): ConversationRef | null {
  const rest = id.slice(2);
  if (rest.length === 0) return null;
  switch (id.slice(0, 2)) {
    case PREFIX.channel: return channelRef(rest);
    case PREFIX.direct: return directRef(rest);
    case PREFIX.group: return groupRef(rest);
    default: return null;
  }
}

/** For ids this engine wrote itself (rows of its own vault): a malformed one is a bug, not input. */
export function refOf(id: string): ConversationRef {
  const ref = parseConversationId(id);
  if (!ref) throw new Error(`not a conversation id: ${id.slice(0, 16)}`);
  return ref;
}
