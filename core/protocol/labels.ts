// Every domain-separation label in the protocol, in one place, so an auditor can check that no two purposes share
// a KDF info string or a signature context. Bump the "v1" suffix if the meaning of a derivation ever changes.
export const LABEL = {
  x3dh: 'Wardroom X3DH v1',
  /** X3DH with an ML-KEM-768 shared secret (PQXDH's structure): a distinct label, so a classic and a hybrid start never share a key */
  pqxdh: 'Wardroom PQXDH X25519 ML-KEM-768 v1',
  ratchetRoot: 'Wardroom DR root v1',
  ratchetMessage: 'Wardroom DR message keys v1',
  senderKeyMessage: 'Wardroom sender key message keys v1',
  recoveryKit: 'Wardroom recovery kit v1',
  /** the org admin key sealed for its backup (org-key-backup.ts) */
  orgKeyBackup: 'Wardroom org key backup v1',
  sessionId: 'Wardroom session id v1',
  sessionAd: 'Wardroom session associated data v1',
  safetyNumber: 'Wardroom safety number v1',
  // signature contexts: prefixed to the signed bytes so a signature made for one purpose verifies for no other
  deviceCertificate: 'Wardroom device certificate v1',
  deviceList: 'Wardroom device list v1',
  /** classic signed prekeys (devices from before ML-KEM): still verified, never made */
  signedPrekey: 'Wardroom signed prekey v1',
  /** a signed prekey of a device that publishes ML-KEM prekeys: the signature commits to that, so a bundle without one is refused */
  hybridSignedPrekey: 'Wardroom signed prekey with ML-KEM-768 v1',
  kemPrekey: 'Wardroom ML-KEM-768 prekey v1',
  channelMessage: 'Wardroom channel message v1',
  /** a signed entry of a channel's membership log (membership.ts) */
  channelMembership: 'Wardroom channel membership v1',
  /** associated data of a sealed channel name or topic (channel-meta.ts) */
  channelMetadata: 'Wardroom channel metadata v1',
} as const;
