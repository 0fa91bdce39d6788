// A link that says where it really goes. Its host (the registrable domain, from the public suffix list) is shown
// beside it unless its own text already starts with it; a link that looks like somewhere else (look-alike letters,
// punycode, a user name posing as a host, text naming another site) is marked, and clicking it opens a warning
// that names the real domain before anything is opened.
import { useState, type MouseEvent, type ReactNode } from 'react';
import { checkLink, type LinkCheck } from '../lib/links.ts';
import { Dialog } from './Dialog.tsx';

/** The link's text shows where it goes (a bare URL): no need to repeat the host. */
function textShowsHost(text: string, check: LinkCheck): boolean {
  const plain = text.replace(/^[a-z]+:\/\//i, '').toLowerCase();
  return plain.startsWith(check.url.host.toLowerCase()) || plain.startsWith(check.host.toLowerCase());
}

export function openExternally(href: string): void {
  window.open(href, '_blank', 'noopener,noreferrer');
}

export function LinkWarningDialog({ check, onClose }: { check: LinkCheck; onClose(): void }) {
  return (
    <Dialog title="Check this link before opening it" onClose={onClose}>
      <p>This link may not go where it seems to.</p>
      <ul className="link-warnings">
        {check.warnings.map((w) => <li key={w}>{w}</li>)}
      </ul>
      <p>It really goes to <strong className="real-domain">{check.domain ?? check.host}</strong>{check.host !== check.asciiHost && <> (<code>{check.asciiHost}</code>)</>}.</p>
      <p className="hint full-url">{check.url.href}</p>
      <div className="actions">
        <button type="button" className="primary" onClick={onClose}>Don't open</button>
        <button type="button" onClick={() => { openExternally(check.url.href); onClose(); }}>Open anyway</button>
      </div>
    </Dialog>
  );
}

/** An http(s) link, checked; anything else is shown as its text only. `hostShown`: the host is already on screen beside it. */
export function SafeLink({ href, text, children, hostShown = false }: { href: string; text: string; children: ReactNode; hostShown?: boolean }) {
  const [warning, setWarning] = useState<LinkCheck | null>(null);
  const check = checkLink(href, text);
  if (!check) return <>{children}</>;
  const warned = check.warnings.length > 0;
  const open = (event: MouseEvent) => {
    if (!warned) return;
    event.preventDefault();
    setWarning(check);
  };
  const shown = check.domain ?? check.host;
  // a look-alike host written in its own script reads like the real one ("аpple.com"): the warning names it as
  // the network sees it (xn--pple-43d.com), which cannot be mistaken for it
  const warnedAs = check.host !== check.asciiHost ? check.asciiHost : shown;
  return (
    <>
      <a href={check.url.href} target="_blank" rel="noopener noreferrer" title={check.url.href} onClick={open} className={warned ? 'link-suspicious' : undefined}>{children}</a>
      {warned
        ? <span className="link-host warn"> (⚠ goes to {warnedAs})</span>
        : !hostShown && !textShowsHost(text, check) && <span className="link-host"> ({shown})</span>}
      {warning && <LinkWarningDialog check={warning} onClose={() => setWarning(null)} />}
    </>
  );
}
