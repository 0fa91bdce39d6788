// What a link really points at, and whether to warn before opening it. Phishing links look like somewhere else:
// a host spelled with look-alike letters (Cyrillic "а" in "аpple.com"), hidden in punycode (xn--), a user name that
// reads like a host ("https://paypal.com@evil.example"), or text that names one site while the link goes to another.
// The registrable domain (the part someone bought) comes from the public suffix list through tldts, never a regex;
// punycode is shown decoded through markdown-it's own link normaliser, which the message text already uses.
import MarkdownIt from 'markdown-it';
import { parse } from 'tldts';

const md = new MarkdownIt();
const PSL = { allowPrivateDomains: true } as const;

export interface LinkCheck {
  url: URL;
  /** the host as the network sees it (punycode for IDNs) */
  asciiHost: string;
  /** the host as a person reads it (IDNs decoded) */
  host: string;
  /** the registrable domain, as a person reads it; null for an IP address or a bare name */
  domain: string | null;
  /** one line each, for the warning dialog; empty when there is nothing to warn about */
  warnings: string[];
}

/** Scripts that may share a label (Chromium's IDN policy: CJK with Latin); any other mixture is suspicious. */
const SCRIPTS = ['Latin', 'Cyrillic', 'Greek', 'Armenian', 'Georgian', 'Cherokee', 'Hebrew', 'Arabic', 'Devanagari', 'Thai', 'Han', 'Hiragana', 'Katakana', 'Hangul', 'Bopomofo'] as const;
type Script = (typeof SCRIPTS)[number] | 'Other';
const SCRIPT_RE = new Map(SCRIPTS.map((s) => [s, new RegExp(`\\p{Script=${s}}`, 'u')]));
const CJK_MIXES: Script[][] = [['Latin', 'Han', 'Hiragana', 'Katakana'], ['Latin', 'Han', 'Bopomofo'], ['Latin', 'Han', 'Hangul']];
/** Cyrillic and Greek letters that pass for Latin ones: a label made only of these is a whole-script look-alike. */
const LATIN_LOOKALIKES = new Set([...'аеорсухіјѕԁһӏԛԝүԌьвтпкмнАВЕКМНОРСТХЅІЈԚԜҮаοαρνικτυεχΑΒΕΖΗΙΚΜΝΟΡΤΥΧ']);

function scriptOf(char: string): Script | null {
  if (!/\p{L}/u.test(char)) return null; // digits and hyphens belong to every script
  for (const [script, re] of SCRIPT_RE) if (re.test(char)) return script;
  return 'Other';
}

function labelWarnings(label: string): string[] {
  const scripts = new Set([...label].map(scriptOf).filter((s): s is Script => s !== null));
  if (scripts.size > 1 && !CJK_MIXES.some((mix) => [...scripts].every((s) => mix.includes(s)))) {
    return [`"${label}" mixes letters from different alphabets (${[...scripts].join(' and ')}), a common way to imitate another site's name`];
  }
  const letters = [...label].filter((c) => /\p{L}/u.test(c));
  if ((scripts.has('Cyrillic') || scripts.has('Greek')) && letters.length > 0 && letters.every((c) => LATIN_LOOKALIKES.has(c))) {
    return [`"${label}" is written in ${[...scripts][0]} letters that look like Latin ones`];
  }
  return [];
}

/** The host, decoded for reading: "xn--pple-43d.com" becomes "аpple.com". */
export function readableHost(asciiHost: string): string {
  return md.normalizeLinkText(`http://${asciiHost}`).replace(/^http:\/\//, '');
}

const toAscii = (host: string) => {
  try {
    return new URL(`http://${host}/`).hostname;
  } catch {
    return host.toLowerCase();
  }
};

/** Hosts the link's text names ("paypal.com", "www.paypal.com/login"), as registrable domains. */
function domainsNamedIn(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(/(?:[\p{L}\p{N}-]+\.)+[\p{L}\p{N}-]{2,}/gu)) {
    const parsed = parse(match[0], PSL);
    if (parsed.domain && (parsed.isIcann || parsed.isPrivate)) found.push(toAscii(parsed.domain));
  }
  return found;
}

/** Checks an http(s) link (and the text it is shown with); null for anything that is not an absolute http(s) URL. */
export function checkLink(href: string, text = ''): LinkCheck | null {
  let url: URL;
  try {
    url = new URL(href);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  const asciiHost = url.hostname;
  const host = readableHost(asciiHost);
  const parsed = parse(asciiHost, PSL);
  const domain = parsed.domain ? readableHost(parsed.domain) : null;
  const warnings: string[] = [];
  if (parsed.isIp) warnings.push(`it goes to a bare network address (${asciiHost}), not a named site`);
  if (url.username || url.password) warnings.push(`the part before "@" ("${decodeURIComponent(url.username)}") is not where it goes: it goes to ${host}`);
  // an international name in one alphabet (münchen.de) is fine; look-alikes and punycode that does not decode are not
  if (host.split('.').some((l) => l.startsWith('xn--'))) warnings.push(`the address is written in a code that hides its real letters (${asciiHost})`);
  else warnings.push(...host.split('.').flatMap(labelWarnings));
  const target = parsed.domain ? toAscii(parsed.domain) : asciiHost;
  const named = domainsNamedIn(text).filter((d) => d !== target);
  if (named.length > 0) warnings.push(`the link says ${readableHost(named[0]!)} but goes to ${domain ?? host}`);
  return { url, asciiHost, host, domain, warnings };
}
