// A conversation's history as a virtualized list: only the rows near the viewport exist in the DOM, so a long
// history stays smooth. Scrolling near the top loads the next older page and keeps what the user was looking at in
// place; at the bottom, new messages keep the list pinned to the newest.
import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { dayKey, dayLabel } from '../lib/time.ts';
import { loadOlder, markRead } from '../state/app.ts';
import { firstUnread, jumpToFirstUnread, jumpToLatest, loadNewer } from '../state/chat.ts';
import { useMessages, type Thread, type Undecryptable } from '../state/messages.ts';
import { MessageRow, UndecryptableRow } from './MessageRow.tsx';

type Row =
  | { kind: 'day'; key: string; label: string }
  | { kind: 'message'; key: string; id: string; continued: boolean }
  | { kind: 'undecryptable'; key: string; entry: Undecryptable }
  /** where the messages unread when the conversation was opened begin */
  | { kind: 'unread'; key: string }
  /** the top of the list: the start of the conversation, or older pages loading */
  | { kind: 'start' | 'loading'; key: string };

/** A sender's messages within this long of each other read as one block. */
const CONTINUE_MS = 5 * 60_000;
/** Closer to the top than this (px), the next older page loads. */
const LOAD_OLDER_AT = 400;
/** Closer to the bottom than this (px), the list counts as pinned to the newest message. */
const PINNED_WITHIN = 48;

/**
 * The list's rows: day separators, messages (not the replies in threads: their roots show a count), what could not
 * be decrypted where it arrived (within the window), and the line where the unread messages begin.
 */
function rowsOf(thread: Thread | undefined, undecryptable: readonly Undecryptable[], unreadFrom: string | undefined): Row[] {
  const rows: Row[] = [];
  if (thread?.loading === 'latest' && thread.ids.length === 0) rows.push({ kind: 'loading', key: 'loading' });
  else if (thread && !thread.hasOlder) rows.push({ kind: 'start', key: 'start' });
  let previous: { day: string; sender: string; at: number } | undefined;
  const lost = [...undecryptable];
  const windowStart = thread?.ids[0] ? thread.byId[thread.ids[0]]!.sentAt : '';
  const flushLost = (before: string | null) => {
    while (lost.length && (before === null || lost[0]!.at < before)) {
      const entry = lost.shift()!;
      if (entry.at >= windowStart && !(before === null && thread?.hasNewer)) rows.push({ kind: 'undecryptable', key: entry.id, entry });
      if (previous) previous = { ...previous, sender: '' }; // the next message shows its sender (its day is not repeated)
    }
  };
  for (const id of thread?.ids ?? []) {
    const message = thread!.byId[id]!;
    if (message.threadRoot) continue;
    flushLost(message.sentAt);
    const day = dayKey(message.sentAt);
    const at = Date.parse(message.sentAt);
    if (day !== previous?.day) rows.push({ kind: 'day', key: `day-${day}`, label: dayLabel(message.sentAt) });
    // the unread line after its day's separator, never a second one for the same day; the message below it shows its sender
    const startsUnread = id === unreadFrom;
    if (startsUnread) rows.push({ kind: 'unread', key: 'unread' });
    const continued = !startsUnread && previous?.day === day && previous.sender === message.sender && at - previous.at < CONTINUE_MS;
    rows.push({ kind: 'message', key: id, id, continued });
    // a notice is nobody's message: the one after it shows its sender again
    previous = { day, sender: message.notice ? '' : message.sender, at };
  }
  flushLost(null);
  return rows;
}

/** How long a message jumped to stays highlighted. */
const HIGHLIGHT_MS = 4_000;

/** `label` names the conversation ("#general", "ann"); `start` is what its beginning is ("your conversation with ann"). */
export function MessageList({ conversation, label, start }: { conversation: string; label: string; start: string }) {
  const thread = useMessages((s) => s.threads[conversation]);
  const undecryptable = useMessages((s) => s.undecryptable[conversation]);
  const unreadCount = useMessages((s) => s.unreadAtOpen[conversation] ?? 0);
  const focus = useMessages((s) => (s.focus?.conversation === conversation ? s.focus : undefined));
  const unreadFrom = useMemo(() => (unreadCount > 0 && thread ? firstUnread(conversation) : undefined), [unreadCount, thread, conversation]);
  const rows = useMemo(() => rowsOf(thread, undecryptable ?? [], unreadFrom), [thread, undecryptable, unreadFrom]);
  const scroller = useRef<HTMLDivElement>(null);
  // a list opened by a jump shows the message jumped to, not the newest
  const pinned = useRef(!focus);
  const [highlighted, setHighlighted] = useState<string>();
  const place = useMemo(() => ({ scope: conversation, inThread: false }), [conversation]);
  /** the row the user was looking at when an older page was asked for, and how far below the top it was */
  const anchor = useRef<{ key: string; offset: number } | null>(null);

  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: (index) => (rows[index]?.kind === 'message' ? 64 : 40),
    getItemKey: (index) => rows[index]!.key,
    overscan: 10,
  });

  const onScroll = useCallback(() => {
    const el = scroller.current;
    if (!el) return;
    pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < PINNED_WITHIN;
    const current = useMessages.getState().threads[conversation];
    if (el.scrollTop < LOAD_OLDER_AT && current?.hasOlder && !current.loading) {
      const first = virtualizer.getVirtualItems().find((item) => item.end > el.scrollTop && rows[item.index]?.kind === 'message');
      // where the row is on screen now, from the DOM (the estimates may be off)
      const slot = first && el.querySelector<HTMLElement>(`[data-key="${CSS.escape(String(first.key))}"]`);
      if (first) anchor.current = { key: String(first.key), offset: slot ? slot.getBoundingClientRect().top - el.getBoundingClientRect().top : first.start - el.scrollTop };
      void loadOlder(conversation);
    }
    if (pinned.current && current?.hasNewer) void loadNewer(conversation);
    if (pinned.current && !current?.hasNewer) void markRead(conversation);
  }, [conversation, virtualizer, rows]);

  // After older rows were put in front: the anchored row goes back to where it was on screen. The first jump uses
  // the estimated sizes of the new rows; over the next frames, as they are measured (and the anchor itself may lose
  // its header, now continuing an older message), the real position in the DOM corrects the rest.
  useLayoutEffect(() => {
    const held = anchor.current;
    const el = scroller.current;
    if (!held || !el || thread?.loading) return;
    const start = virtualizer.measurementsCache[rows.findIndex((row) => row.key === held.key)]?.start;
    if (start !== undefined) virtualizer.scrollToOffset(start - held.offset);
    let frames = 0;
    let frame = 0;
    const correct = () => {
      const slot = el.querySelector<HTMLElement>(`[data-key="${CSS.escape(held.key)}"]`);
      if (slot) {
        const drift = slot.getBoundingClientRect().top - el.getBoundingClientRect().top - held.offset;
        if (Math.abs(drift) >= 1) el.scrollTop += drift;
      }
      if (++frames < 6) frame = requestAnimationFrame(correct);
      else anchor.current = null;
    };
    frame = requestAnimationFrame(correct);
    return () => cancelAnimationFrame(frame);
  }, [rows, virtualizer, thread?.loading]);

  // Opening a conversation, and new messages while pinned: the newest in view.
  const newest = rows.at(-1)?.key;
  useLayoutEffect(() => {
    if (rows.length > 0 && pinned.current && !anchor.current) virtualizer.scrollToIndex(rows.length - 1, { align: 'end' });
  }, [newest, rows.length, virtualizer]);
  // What arrives while the user is at the bottom of an open conversation is read.
  useEffect(() => {
    if (newest && pinned.current && !thread?.hasNewer) void markRead(conversation);
  }, [newest, conversation, thread?.hasNewer]);

  // A jump (a search result, a quote, the first unread): the message in the middle, focused and highlighted. Its
  // row is measured over the next frames; the scroll follows it until it settles, then the list stays put.
  const handled = useRef(0);
  useLayoutEffect(() => {
    if (!focus || handled.current === focus.nonce) return;
    const index = rows.findIndex((row) => row.key === focus.id);
    if (index < 0) return;
    handled.current = focus.nonce;
    pinned.current = false;
    anchor.current = null;
    virtualizer.scrollToIndex(index, { align: 'center' });
    setHighlighted(focus.id);
    let frames = 0;
    let frame = 0;
    const settle = () => {
      const el = scroller.current;
      const slot = el?.querySelector<HTMLElement>(`[data-key="${CSS.escape(focus.id)}"]`);
      if (el && slot) {
        const box = slot.getBoundingClientRect();
        const view = el.getBoundingClientRect();
        const drift = box.top + box.height / 2 - (view.top + view.height / 2);
        if (Math.abs(drift) >= 1 && box.height < view.height) el.scrollTop += drift;
      }
      if (++frames < 8) frame = requestAnimationFrame(settle);
      else slot?.querySelector<HTMLElement>('article')?.focus({ preventScroll: true });
    };
    frame = requestAnimationFrame(settle);
    const timer = window.setTimeout(() => setHighlighted(undefined), HIGHLIGHT_MS);
    return () => {
      cancelAnimationFrame(frame);
      window.clearTimeout(timer);
    };
  }, [focus, rows, virtualizer]);

  const items = virtualizer.getVirtualItems();
  return (
    <>
      {thread?.error && <p className="error-line" role="alert">Could not load messages: {thread.error}</p>}
      {thread?.loading === 'older' && <p className="loading-older" role="status">Loading older messages…</p>}
      <div className="list-jumps">
        {unreadCount > 0 && <button type="button" onClick={() => void jumpToFirstUnread(conversation)}>Jump to first unread ({unreadCount})</button>}
        {thread?.hasNewer && <button type="button" onClick={() => void jumpToLatest(conversation)}>Jump to the newest</button>}
      </div>
      <div className="message-scroll" ref={scroller} onScroll={onScroll} role="log" aria-label={`Messages in ${label}`} tabIndex={0} aria-busy={thread?.loading ? true : undefined}>
      <div className="message-canvas" style={{ height: virtualizer.getTotalSize() }}>
        {items.map((item) => {
          const row = rows[item.index]!;
          return (
            <div key={item.key} data-index={item.index} data-key={item.key} ref={virtualizer.measureElement}
              className={`message-slot${row.kind === 'message' && row.id === highlighted ? ' highlighted' : ''}`} style={{ transform: `translateY(${item.start}px)` }}>
              {row.kind === 'day' && <div className="day-separator" role="separator" aria-label={row.label}><span>{row.label}</span></div>}
              {row.kind === 'unread' && <div className="day-separator unread-separator" role="separator" aria-label="New messages"><span>New messages</span></div>}
              {row.kind === 'message' && <MessageRow message={thread!.byId[row.id]!} continued={row.continued} place={place} />}
              {row.kind === 'undecryptable' && <UndecryptableRow {...row.entry} />}
              {row.kind === 'loading' && <p className="history-note" role="status">Loading messages…</p>}
              {row.kind === 'start' && <p className="history-note">{thread!.ids.every((id) => thread!.byId[id]?.notice) ? `No messages in ${label} yet. Say hello!` : `This is the beginning of ${start}.`}</p>}
            </div>
          );
        })}
      </div>
      </div>
    </>
  );
}
