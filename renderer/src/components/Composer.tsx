// Writing a message: Enter sends, Shift+Enter starts a new line. Markdown is sent as typed and rendered on arrival.
// The draft is kept per composer while the profile is open; a send that fails puts the text (and the files) back.
// Above the input, the message being answered (quoted) or edited, Escape to stop; Up on an empty composer edits our
// last message. `@` lists the people here and `:sm` emoji by shortcode (arrows, then Enter or Tab); the emoji button
// opens the picker. Files come from the attach button, a drop onto the composer, or a paste; they wait as chips
// (removable) and go with the text as their caption. `scope` names the composer (lib of state/compose.ts); in a
// thread panel `threadRoot` is its root.
import { useEffect, useId, useMemo, useRef, useState, type ClipboardEvent, type DragEvent, type KeyboardEvent } from 'react';
import { formatSize } from '../lib/bytes.ts';
import { quoteText } from '../lib/quote-text.ts';
import { byShortcode, loadEmoji, type Emoji } from '../lib/emoji.ts';
import { FILES_PER_MESSAGE, MESSAGE_TEXT_MAX } from '../lib/limits.ts';
import { insertMention, matchPeople, mentionAt, replaceRange, shortcodeAt, type Person } from '../lib/mentions.ts';
import { typing } from '../state/app.ts';
import { editMessage, sendMessage } from '../state/chat.ts';
import { useCompose } from '../state/compose.ts';
import { useContacts } from '../state/contacts.ts';
import { useConversations } from '../state/conversations.ts';
import { admitFiles, attachRefusal, useFilePolicyNow } from '../state/file-policy.ts';
import { sendFiles } from '../state/files.ts';
import { BURN_CHOICES, EXPIRE_CHOICES } from '../lib/timers.ts';
import { useMessages } from '../state/messages.ts';
import { useNotices } from '../state/notices.ts';
import { usePanel } from '../state/panel.ts';
import type { Message } from '../state/types.ts';
import { LazyEmojiPicker } from './LazyEmojiPicker.tsx';
import { UploadProgress } from './UploadProgress.tsx';

type Suggestion = { kind: 'person'; person: Person } | { kind: 'emoji'; emoji: Emoji };

/** The message of ours Up would edit: the newest one this composer shows. */
function lastOwn(conversation: string, threadRoot: string | undefined): Message | undefined {
  if (threadRoot) return usePanel.getState().thread?.replies.findLast((m) => m.outgoing);
  const thread = useMessages.getState().threads[conversation];
  const id = thread?.ids.findLast((x) => thread.byId[x]!.outgoing && !thread.byId[x]!.threadRoot && !thread.byId[x]!.notice);
  return id ? thread!.byId[id] : undefined;
}

function findMessage(conversation: string, id: string): Message | undefined {
  const thread = usePanel.getState().thread;
  return useMessages.getState().threads[conversation]?.byId[id] ?? (thread?.root.id === id ? thread.root : thread?.replies.find((m) => m.id === id));
}

export function Composer({ conversation, label, scope = conversation, threadRoot }: { conversation: string; label: string; scope?: string; threadRoot?: string }) {
  const draft = useMessages((s) => s.drafts[scope] ?? '');
  const setDraft = useMessages((s) => s.setDraft);
  const mode = useCompose((s) => s.modes[scope]);
  const setMode = useCompose((s) => s.set);
  const members = useConversations((s) => s.byId[conversation]?.members);
  const contacts = useContacts((s) => s.byUsername);
  const [sending, setSending] = useState(false);
  const [caret, setCaret] = useState(0);
  const [active, setActive] = useState(0);
  const [dismissed, setDismissed] = useState<number | null>(null);
  const [emoji, setEmoji] = useState<Emoji[] | null>(null);
  const [picking, setPicking] = useState<HTMLElement | null>(null);
  // this message's own timers; none: the conversation's timer and the org policy decide
  const [expire, setExpire] = useState(0);
  const [burn, setBurn] = useState(0);
  const [files, setFiles] = useState<File[]>([]);
  const [dropping, setDropping] = useState(false);
  const filePolicy = useFilePolicyNow();
  const attachRefused = attachRefusal(filePolicy);
  const input = useRef<HTMLTextAreaElement>(null);
  const ids = useId();
  const inputId = `composer-input${threadRoot ? '-thread' : ''}`;
  const hintId = `${inputId}-hint`;

  const people = useMemo<Person[]>(() => {
    const names = members && members.length > 0 ? members : Object.keys(contacts);
    return names.map((username) => ({ username, ...(contacts[username]?.displayName ? { displayName: contacts[username]!.displayName! } : {}) }));
  }, [members, contacts]);

  // what the text at the caret asks to complete: a person after @, an emoji after :sh
  const mention = mentionAt(draft, caret);
  const shortcode = mention ? null : shortcodeAt(draft, caret);
  useEffect(() => {
    if (shortcode && !emoji) void loadEmoji().then(setEmoji, () => {});
  }, [shortcode, emoji]);
  const suggestions: Suggestion[] = mention ? matchPeople(people, mention.query).map((person) => ({ kind: 'person', person }))
    : shortcode && emoji ? byShortcode(emoji, shortcode.query).map((e) => ({ kind: 'emoji', emoji: e })) : [];
  const token = mention ?? shortcode;
  const open = suggestions.length > 0 && token !== null && dismissed !== token.start;
  const listId = `${ids}-suggestions`;
  const optionId = (i: number) => `${ids}-option-${i}`;

  // a reply or an edit started from a message's menu: the composer takes the focus
  useEffect(() => {
    if (mode) input.current?.focus();
  }, [mode]);

  const putText = (next: { text: string; caret: number }) => {
    setDraft(scope, next.text);
    setCaret(next.caret);
    requestAnimationFrame(() => input.current?.setSelectionRange(next.caret, next.caret));
  };

  const choose = (s: Suggestion) => {
    if (!token) return;
    putText(s.kind === 'person' ? insertMention(draft, token.start, caret, s.person.username) : replaceRange(draft, token.start, caret, s.emoji.unicode));
    setActive(0);
  };

  const endMode = () => {
    if (mode?.kind === 'edit') setDraft(scope, mode.draftBefore);
    setMode(scope, undefined);
  };
  const picker = useRef<HTMLInputElement>(null);

  const addFiles = (offered: readonly File[]) => {
    const { admitted: chosen, refusals } = admitFiles(filePolicy, offered);
    for (const refusal of refusals) useNotices.getState().add(refusal, 'info');
    if (chosen.length === 0) return;
    const next = [...files, ...chosen];
    if (next.length > FILES_PER_MESSAGE) useNotices.getState().add(`At most ${FILES_PER_MESSAGE} files go in one message; the rest were left out`, 'info');
    setFiles(next.slice(0, FILES_PER_MESSAGE));
  };

  const submit = async () => {
    const text = draft.trim();
    if (sending || text.length > MESSAGE_TEXT_MAX || (!text && files.length === 0)) return;
    const attached = files;
    setSending(true);
    const was = mode;
    setDraft(scope, was?.kind === 'edit' ? was.draftBefore : '');
    setMode(scope, undefined);
    setFiles([]);
    typing(conversation, false);
    try {
      const timers = expire || burn ? { ...(expire ? { expiresInSeconds: expire } : {}), ...(burn ? { burnAfterReadSeconds: burn } : {}) } : undefined;
      if (was?.kind === 'edit') await editMessage(was.id, text);
      // files in a thread join it; files in a quoted reply keep the quote
      else if (attached.length > 0) {
        const reply = threadRoot ? { replyTo: was?.id ?? threadRoot } : was ? { replyTo: was.id, quote: true } : {};
        await sendFiles(conversation, attached, text, { ...reply, ...(timers ? { timers } : {}) });
      }
      else if (threadRoot) await sendMessage(conversation, text, { to: was?.id ?? threadRoot, quote: false }, timers);
      else await sendMessage(conversation, text, was ? { to: was.id, quote: true } : undefined, timers);
    } catch {
      // the notice says why; nothing typed or attached is lost
      setDraft(scope, text);
      setMode(scope, was);
      setFiles(attached);
    } finally {
      setSending(false);
      input.current?.focus();
    }
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.nativeEvent.isComposing) return;
    if (open) {
      const n = suggestions.length;
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault();
        setActive((a) => (a + (event.key === 'ArrowDown' ? 1 : n - 1)) % n);
        return;
      }
      if (event.key === 'Enter' || event.key === 'Tab') {
        event.preventDefault();
        choose(suggestions[Math.min(active, n - 1)]!);
        return;
      }
      if (event.key === 'Escape') {
        event.preventDefault();
        setDismissed(token!.start);
        return;
      }
    }
    if (event.key === 'Escape' && mode) {
      event.preventDefault();
      endMode();
    } else if (event.key === 'ArrowUp' && draft === '' && !mode) {
      const last = lastOwn(conversation, threadRoot);
      if (!last) return;
      event.preventDefault();
      setMode(scope, { kind: 'edit', id: last.id, draftBefore: '' });
      setDraft(scope, last.text);
    } else if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      void submit();
    }
  };
  const onPaste = (event: ClipboardEvent<HTMLTextAreaElement>) => {
    const pasted = [...event.clipboardData.files];
    if (pasted.length === 0) return; // text pastes as text
    event.preventDefault();
    addFiles(pasted);
  };
  const onDragOver = (event: DragEvent) => {
    if (!event.dataTransfer.types.includes('Files')) return;
    event.preventDefault();
    setDropping(true);
  };
  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setDropping(false);
    addFiles([...event.dataTransfer.files]);
  };

  const target = mode ? findMessage(conversation, mode.id) : undefined;
  const over = draft.length > MESSAGE_TEXT_MAX;
  const lines = Math.min(8, draft.split('\n').length);
  return (
    <form className={`composer${dropping ? ' dropping' : ''}`} onSubmit={(e) => { e.preventDefault(); void submit(); }}
      onDragOver={onDragOver} onDragLeave={() => setDropping(false)} onDrop={onDrop}>
      <UploadProgress conversation={conversation} />
      {mode && (
        <div className="composer-mode" role="status">
          <span className="composer-mode-text">
            {mode.kind === 'edit' ? 'Editing your message' : <>Replying to <strong>{target?.sender ?? 'a message'}</strong>{target && <>: <span className="quote-text">{quoteText(target)}</span></>}</>}
          </span>
          <button type="button" className="icon-button" aria-label={mode.kind === 'edit' ? 'Cancel editing' : 'Cancel reply'} onClick={() => { endMode(); input.current?.focus(); }}>×</button>
        </div>
      )}
      {files.length > 0 && (
        <ul className="attached" aria-label="Files to send">
          {files.map((f, i) => (
            <li key={`${f.name}-${i}`}>
              <span className="file-name">{f.name}</span> <span className="file-size">{formatSize(f.size)}</span>
              <button type="button" className="icon-button" aria-label={`Remove ${f.name}`} onClick={() => setFiles(files.filter((_, j) => j !== i))}>×</button>
            </li>
          ))}
        </ul>
      )}
      {open && (
        <ul id={listId} role="listbox" className="suggestions" aria-label={mention ? 'People to mention' : 'Emoji'}>
          {suggestions.map((s, i) => (
            <li key={s.kind === 'person' ? s.person.username : s.emoji.unicode} id={optionId(i)} role="option" aria-selected={i === active}
              onPointerDown={(e) => { e.preventDefault(); choose(s); }}>
              {s.kind === 'person'
                ? <><span className="suggestion-main">@{s.person.username}</span>{s.person.displayName && <span className="suggestion-extra">{s.person.displayName}</span>}</>
                : <><span className="suggestion-main">{s.emoji.unicode}</span><span className="suggestion-extra">:{s.emoji.shortcodes.find((c) => c.startsWith(shortcode!.query)) ?? s.emoji.shortcodes[0]}:</span></>}
            </li>
          ))}
        </ul>
      )}
      <label htmlFor={inputId} className="visually-hidden">{threadRoot ? `Reply in thread` : `Message ${label}`}</label>
      <textarea id={inputId} ref={input} value={draft} rows={lines} placeholder={threadRoot ? 'Reply in thread…' : `Message ${label}`} aria-describedby={hintId} aria-invalid={over || undefined}
        aria-autocomplete="list" aria-controls={open ? listId : undefined} aria-activedescendant={open ? optionId(Math.min(active, suggestions.length - 1)) : undefined}
        onChange={(e) => {
          setDraft(scope, e.target.value);
          setCaret(e.target.selectionStart);
          setDismissed(null);
          setActive(0);
          typing(conversation, e.target.value.length > 0);
        }}
        onSelect={(e) => setCaret(e.currentTarget.selectionStart)}
        onKeyDown={onKeyDown} onPaste={onPaste} />
      <span id={hintId} className={`composer-hint${over ? ' over' : ''}`}>
        {over ? `${draft.length - MESSAGE_TEXT_MAX} characters over the limit of ${MESSAGE_TEXT_MAX}`
          : `Enter to send, Shift+Enter for a new line, @ to mention, Up to edit your last message.${attachRefused ? '' : ' Drop or paste files to attach them.'}`}
      </span>
      <div className="composer-buttons">
        <input ref={picker} type="file" multiple hidden aria-hidden="true" tabIndex={-1} onChange={(e) => { addFiles([...(e.target.files ?? [])]); e.target.value = ''; }} />
        <button type="button" disabled={attachRefused !== null} aria-describedby={attachRefused ? `${ids}-attach-refused` : undefined} onClick={() => picker.current?.click()}>Attach files</button>
        {attachRefused && <span id={`${ids}-attach-refused`} className="hint attach-refused">{attachRefused}</span>}
        <button type="button" className="icon-button emoji-open" aria-label="Insert emoji" aria-haspopup="dialog" onClick={(e) => setPicking(e.currentTarget)}>☺</button>
        <button type="submit" className="primary" disabled={sending || over || (draft.trim() === '' && files.length === 0)}>{mode?.kind === 'edit' ? 'Save' : 'Send'}</button>
      </div>
      {picking && (
        <LazyEmojiPicker label="Insert an emoji" anchor={picking}
          onPick={(e) => {
            const at = input.current?.selectionStart ?? draft.length;
            setPicking(null);
            input.current?.focus();
            putText(replaceRange(draft, at, input.current?.selectionEnd ?? at, e));
          }}
          onClose={() => { setPicking(null); input.current?.focus(); }} />
      )}
      <div className="composer-timers">
        <label htmlFor="composer-expire">Disappears</label>
        <select id="composer-expire" value={expire} onChange={(e) => setExpire(Number(e.target.value))}>
          <option value={0}>as the conversation says</option>
          {EXPIRE_CHOICES.map((c) => <option key={c.seconds} value={c.seconds}>after {c.label}</option>)}
        </select>
        <label htmlFor="composer-burn">Burns</label>
        <select id="composer-burn" value={burn} onChange={(e) => setBurn(Number(e.target.value))}>
          <option value={0}>not on reading</option>
          {BURN_CHOICES.map((c) => <option key={c.seconds} value={c.seconds}>{c.label} after reading</option>)}
        </select>
      </div>
    </form>
  );
}
