// The contract's view types, as the stores hold them (types only: the renderer never loads core's code).
export type { ContactViewT as Contact, ConversationViewT as Conversation, MessageViewT as Message, SettingsT as Settings } from '../../../core/api/contract.ts';
export type { ProfileViewT as Profile } from '../../../core/api/host.ts';
