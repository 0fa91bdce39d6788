// Every domain-separation label in the protocol, in one place, so an auditor can check that no two purposes share
// a KDF info string or a signature context. Bump the "v1" suffix if the meaning of a derivation ever changes.
export const LABEL = {
  x3dh: 'Wardroom X3DH v1',
  ratchetRoot: 'Wardroom DR root v1',
  ratchetMessage: 'Wardroom DR message keys v1',
  senderKeyMessage: 'Wardroom sender key message keys v1',
  recoveryKit: 'Wardroom recovery kit v1',
  sessionId: 'Wardroom session id v1',
  sessionAd: 'Wardroom session associated data v1',
  safetyNumber: 'Wardroom safety number v1',
  // signature contexts: prefixed to the signed bytes so a signature made for one purpose verifies for no other
  deviceCertificate: 'Wardroom device certificate v1',
  deviceList: 'Wardroom device list v1',
  signedPrekey: 'Wardroom signed prekey v1',
  channelMessage: 'Wardroom channel message v1',
} as const;
