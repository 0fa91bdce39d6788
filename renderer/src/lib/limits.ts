// The contract's limits the renderer needs as values. The renderer may not load core/api's code, so they are
// repeated here, and `satisfies` against the contract's own (literal) types makes the typecheck fail if they drift.
import type { LIMITS } from '../../../core/api/contract.ts';

type Limits = typeof LIMITS;

export const MESSAGE_TEXT_MAX = 16_000 satisfies Limits['messageTextMax'];
export const CHANNEL_NAME_MAX = 64 satisfies Limits['channelNameMax'];
export const TOPIC_MAX = 256 satisfies Limits['topicMax'];
export const PASSPHRASE_MIN = 8 satisfies Limits['passphraseMin'];
export const PASSPHRASE_MAX = 1024 satisfies Limits['passphraseMax'];
export const LINK_MAX = 2048 satisfies Limits['linkMax'];
export const USERNAME_MAX = 32 satisfies Limits['usernameMax'];

/** The contract's Username and ChannelName patterns (core/api/contract.ts), for hints before a round trip. */
export const USERNAME_PATTERN = '[a-z0-9][a-z0-9._\\-]{1,31}';
export const CHANNEL_NAME_PATTERN = '[a-z0-9][a-z0-9_\\-]{0,63}';
export const SEARCH_QUERY_MAX = 256 satisfies Limits['searchQueryMax'];
/** Files: what one files.stageChunk carries, and how many files one message holds. */
export const FILE_CHUNK_MAX = 1024 * 1024 satisfies Limits['fileChunkMax'];
export const FILES_PER_MESSAGE = 10 satisfies Limits['filesPerMessage'];
/** The largest still a video's first frame may be when handed to the engine. */
export const PREVIEW_INPUT_MAX = 256 * 1024 satisfies Limits['previewInputBytes'];
