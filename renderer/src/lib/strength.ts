// A hint of how hard a passphrase is to guess, while it is typed. Not a guarantee: it counts length and the kinds
// of characters, and marks down repeats, runs and the commonest choices. The vault's Argon2id makes each guess slow;
// this only steers people toward long passphrases.

export type Strength = { score: 0 | 1 | 2 | 3 | 4; label: string; advice: string };

const COMMON = ['password', 'passphrase', 'wardroom', 'qwerty', 'azerty', '123456', 'letmein', 'welcome', 'iloveyou', 'admin', 'secret'];

/** Rough bits of guessing work. */
export function estimateBits(passphrase: string): number {
  if (!passphrase) return 0;
  const lower = passphrase.toLowerCase();
  let pool = 0;
  if (/[a-z]/.test(passphrase)) pool += 26;
  if (/[A-Z]/.test(passphrase)) pool += 26;
  if (/[0-9]/.test(passphrase)) pool += 10;
  if (/[^A-Za-z0-9]/.test(passphrase)) pool += 33;
  // each distinct character counts in full; repeats of one already seen count for little
  const distinct = new Set(passphrase).size;
  let bits = distinct * Math.log2(pool) + (passphrase.length - distinct) * 1.5;
  for (const word of COMMON) if (lower.includes(word)) bits -= word.length * 3;
  if (/(.)\1{2,}/.test(passphrase)) bits -= 6;
  if (/(?:abc|bcd|cde|123|234|345|456|567|678|789)/.test(lower)) bits -= 6;
  return Math.max(0, bits);
}

export function strengthOf(passphrase: string, minimum: number): Strength {
  if (passphrase.length < minimum) return { score: 0, label: 'Too short', advice: `Use at least ${minimum} characters.` };
  const bits = estimateBits(passphrase);
  if (bits < 35) return { score: 1, label: 'Weak', advice: 'Add more words: four unrelated words are easy to remember and hard to guess.' };
  if (bits < 55) return { score: 2, label: 'Fair', advice: 'Longer is better: add another word.' };
  if (bits < 75) return { score: 3, label: 'Good', advice: 'A good passphrase.' };
  return { score: 4, label: 'Strong', advice: 'A strong passphrase.' };
}
