// External links: only web links (http, https) ever reach the OS browser, and only after the user has seen the
// real host in a dialog of the main process (which the page can neither skip nor draw itself). Hosts that may
// imitate another site are flagged in that dialog, and the page can ask for the same inspection to warn inline.
import { domainToUnicode } from 'node:url';

export const LINK_MAX = 2048;

export type LinkWarning = 'insecure' | 'ip-address' | 'international' | 'lookalike';

export interface LinkInspection {
  /** the URL as it will be opened (parsed and re-serialised: what the browser gets) */
  url: string;
  /** the real host, in ASCII (punycode) form, with its port if any */
  host: string;
  /** the host as international characters, when it has any */
  unicodeHost?: string;
  warnings: LinkWarning[];
}

export class LinkRefused extends Error {
  override readonly name = 'LinkRefused';
}

// Scripts with letters that pass for Latin ones; a label mixing two of them is the classic homograph.
const CONFUSABLE_SCRIPTS = ['Latin', 'Cyrillic', 'Greek', 'Armenian', 'Cherokee'] as const;
const SCRIPT_PATTERNS = CONFUSABLE_SCRIPTS.map((script) => [script, new RegExp(`\\p{Script=${script}}`, 'u')] as const);
// Cyrillic and Greek letters that look like Latin ones: a label made only of these spells a Latin word.
const LATIN_LOOKALIKES = new Set([...'асеһіјкорѕԁԛԝхуӏαικνορτυχ']);

function labelLooksAlike(label: string): boolean {
  const letters = [...label].filter((c) => /\p{L}/u.test(c));
  const scripts = new Set(letters.map((c) => SCRIPT_PATTERNS.find(([, pattern]) => pattern.test(c))?.[0]).filter((s) => s !== undefined));
  if (scripts.size > 1) return true;
  const nonLatin = letters.filter((c) => !/\p{Script=Latin}/u.test(c));
  return nonLatin.length > 0 && nonLatin.length === letters.length && letters.every((c) => LATIN_LOOKALIKES.has(c));
}

const isIpLiteral = (hostname: string) => hostname.startsWith('[') || /^\d{1,3}(\.\d{1,3}){3}$/.test(hostname);

/** Checks a link the page wants opened. Throws LinkRefused, with a sentence for the user, for anything but http(s). */
export function inspectLink(text: unknown): LinkInspection {
  if (typeof text !== 'string' || text.length === 0) throw new LinkRefused('not a link');
  if (text.length > LINK_MAX) throw new LinkRefused(`links longer than ${LINK_MAX} characters are not opened`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new LinkRefused('not a link');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new LinkRefused(`only web links (http, https) open in the browser, not ${url.protocol.slice(0, 20)} links`);
  if (url.username !== '' || url.password !== '') throw new LinkRefused('links with a user name or password in them are not opened: they hide the real address');
  if (url.hostname === '') throw new LinkRefused('the link has no host');
  const warnings: LinkWarning[] = [];
  if (url.protocol === 'http:') warnings.push('insecure');
  if (isIpLiteral(url.hostname)) warnings.push('ip-address');
  const unicode = domainToUnicode(url.hostname);
  const international = unicode !== '' && unicode !== url.hostname;
  if (international) warnings.push('international');
  if (international && unicode.split('.').some(labelLooksAlike)) warnings.push('lookalike');
  const port = url.port === '' ? '' : `:${url.port}`;
  return { url: url.href, host: url.host, ...(international ? { unicodeHost: unicode + port } : {}), warnings };
}

const WARNING_TEXT: Record<LinkWarning, (link: LinkInspection) => string> = {
  'insecure': () => 'This link is not encrypted (http): others on the network can read and change the page.',
  'ip-address': () => 'This link names a numeric address instead of a site name.',
  'international': (link) => `The address uses international characters: it reads ${link.unicodeHost}, and really is ${link.host}.`,
  'lookalike': () => 'The address mixes alphabets or uses letters that imitate others: it may be posing as another site.',
};

/** The confirmation dialog's text: the real host first, then the whole link, then every warning. */
export function confirmationText(link: LinkInspection): { message: string; detail: string } {
  const lines = [`It goes to: ${link.host}`, '', link.url];
  if (link.warnings.length > 0) lines.push('', ...link.warnings.map((warning) => WARNING_TEXT[warning](link)));
  return { message: 'Open this link in your browser?', detail: lines.join('\n') };
}

export interface LinkOpener {
  /** shows the user the link's real host and asks; true to open */
  confirm(link: LinkInspection, text: { message: string; detail: string }): Promise<boolean>;
  /** hands an inspected http(s) URL to the OS browser */
  open(url: string): Promise<void>;
}

/** The only path to the OS browser: inspect, confirm with the real host shown, then open exactly what was shown. */
export async function openLinkAfterConfirm(text: unknown, opener: LinkOpener): Promise<{ opened: boolean }> {
  const link = inspectLink(text);
  if (!(await opener.confirm(link, confirmationText(link)))) return { opened: false };
  await opener.open(link.url);
  return { opened: true };
}
