// The host entry: what a front door (the CLI, the Electron shell, the web shell, `wardroom serve`) calls to start
// engines. Front doors import this and core/api, never core/engine, so the engine's insides can move without
// touching them.
export { createEngineHost, profileLog } from '../engine/host.ts';
export { ProfileHost, type ProfileHostOptions } from './profiles.ts';
export { createSession, type Session, type SessionListener } from './session.ts';
// The desktop app wraps the vault key with the OS keystore, and checks a join link before it opens the join flow.
export { keystoreProvider, setKeystore, type KeystoreWrap } from '../vault/index.ts';
export { InviteLinkError, parseInviteLink } from '../relay/invite-link.ts';
export { verifyExport, type VerifyResult } from '../engine/retention/chain.ts';
