// A conversation's history as a virtualized list: only the rows near the viewport exist in the DOM, so a long
// history stays smooth. Scrolling near the top loads the next older page, near the bottom of a window that does not
// reach the newest the next newer one (the store keeps a bounded window, state/history-window.ts); the virtualizer
// is anchored at the end (anchorTo), so whatever is put in front or dropped from either end, the row the user is
// looking at keeps its place without any reading back of the layout. At the bottom, new messages keep the list
// pinned to the newest.
import { useVirtualizer, type VirtualItem } from '@tanstack/react-virtual';
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { dayKey, dayLabel } from '../lib/time.ts';
import { loadOlder, markRead } from '../state/app.ts';
import { jumpToFirstUnread, jumpToLatest, loadNewer } from '../state/chat.ts';
import { firstUnread, useMessages, type Thread, type Undecryptable } from '../state/messages.ts';
import { MessageRow, UndecryptableRow } from './MessageRow.tsx';

// A day separator and the line where the unread messages begin belong to the message after them, in its row: a row
// of their own would keep its key while an older page of the same day slid in above it, and the anchored position
// would stay with the separator, at the top, instead of with what the user was reading.
type Row =
  /** `day`: the label of the day separator before it; `unread`: the first of the messages unread at opening */
  | { kind: 'message'; key: string; id: string; continued: boolean; day?: string; unread: boolean }
  | { kind: 'undecryptable'; key: string; entry: Undecryptable }
  /** the top of the list: the start of the conversation, or older pages loading */
  | { kind: 'start' | 'loading'; key: string };

/** A sender's messages within this long of each other read as one block. */
const CONTINUE_MS = 5 * 60_000;
/** Closer to the top than this (px), the next older page loads; closer to the bottom, the next newer one (if any). */
const LOAD_MORE_AT = 400;
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
    const startsUnread = id === unreadFrom;
    const day = dayKey(message.sentAt);
    const at = Date.parse(message.sentAt);
    const newDay = day !== previous?.day;
    // the unread line after its day's separator, never a second one for the same day; the message below it shows its sender
    const continued = !startsUnread && !newDay && previous!.sender === message.sender && at - previous!.at < CONTINUE_MS;
    rows.push({ kind: 'message', key: id, id, continued, unread: startsUnread, ...(newDay ? { day: dayLabel(message.sentAt) } : {}) });
    // a notice is nobody's message: the one after it shows its sender again
    previous = { day, sender: message.notice ? '' : message.sender, at };
  }
  flushLost(null);
  return rows;
}

/** Heights (px) to place rows by until they are measured: a guess from the text is closer than one size for all. */
const ESTIMATE = { head: 30, line: 22, continued: 6, separator: 34, note: 48, extra: 120, charsPerLine: 90 } as const;

function estimateOf(row: Row | undefined, thread: Thread | undefined): number {
  if (row?.kind !== 'message') return ESTIMATE.note;
  const message = thread?.byId[row.id];
  const lines = Math.max(1, Math.ceil((message?.text.length ?? 0) / ESTIMATE.charsPerLine), message?.text.split('\n').length ?? 1);
  return (row.continued ? ESTIMATE.continued : ESTIMATE.head) + lines * ESTIMATE.line
    + (row.day ? ESTIMATE.separator : 0) + (row.unread ? ESTIMATE.separator : 0)
    + (message?.files?.length || message?.preview ? ESTIMATE.extra : 0);
}

/** What a row shows above its message: it changes when a page put in front continues the row's day or sender. */
const leadOf = (row: Row | undefined) => (row?.kind === 'message' ? `${row.day ?? ''}|${row.unread}|${row.continued}` : '');

/** How long a message jumped to stays highlighted. */
const HIGHLIGHT_MS = 4_000;

/** `label` names the conversation ("#general", "ann"); `start` is what its beginning is ("your conversation with ann"). */
export function MessageList({ conversation, label, start }: { conversation: string; label: string; start: string }) {
  const thread = useMessages((s) => s.threads[conversation]);
  const undecryptable = useMessages((s) => s.undecryptable[conversation]);
  const unreadCount = useMessages((s) => s.unreadAtOpen[conversation] ?? 0);
  const focus = useMessages((s) => (s.focus?.conversation === conversation ? s.focus : undefined));
  const toNewest = useMessages((s) => s.toNewest[conversation] ?? 0);
  const unreadFrom = useMemo(() => (unreadCount > 0 && thread ? firstUnread(conversation) : undefined), [unreadCount, thread, conversation]);
  const rows = useMemo(() => rowsOf(thread, undecryptable ?? [], unreadFrom), [thread, undecryptable, unreadFrom]);
  const unreadSeen = useMessages((s) => s.firstUnreadSeen[conversation] ?? false);
  // the row of the first unread message, read by the scroll handler (which is made once per conversation)
  const unreadIndex = useRef(-1);
  unreadIndex.current = useMemo(() => (unreadFrom ? rows.findIndex((row) => row.key === unreadFrom) : -1), [rows, unreadFrom]);
  const scroller = useRef<HTMLDivElement>(null);
  // a list opened by a jump shows the message jumped to, not the newest
  const pinned = useRef(!focus);
  const [highlighted, setHighlighted] = useState<string>();
  const place = useMemo(() => ({ scope: conversation, inThread: false }), [conversation]);

  // Made once per set of rows: a new getItemKey makes the virtualizer rebuild every row's measurements (and estimate
  // the unmeasured ones again), which would otherwise happen on each render the scroll causes.
  const getItemKey = useCallback((index: number) => rows[index]!.key, [rows]);
  const estimateSize = useCallback((index: number) => estimateOf(rows[index], thread), [rows, thread]);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize,
    getItemKey,
    // rows put in front or dropped from either end: the row at the top of the view stays where it is on screen
    anchorTo: 'end',
    overscan: 8,
  });
  // A row whose top part changed (the separator or header above its message gone, or come) grows or shrinks above
  // its message: where that row starts at or above the top of the view, the scroll follows, so the message the user
  // is reading stays where it was. Other size changes are the virtualizer's own rule (rows entirely above the view).
  const leads = useRef(new Map<VirtualItem['key'], string>());
  virtualizer.shouldAdjustScrollPositionOnItemSizeChange = (item, _delta, instance) => {
    const offset = instance.scrollOffset ?? 0;
    const lead = leadOf(rows[item.index]);
    const before = leads.current.get(item.key);
    leads.current.set(item.key, lead);
    if (!instance.itemSizeCache.has(item.key)) return item.start < offset;
    if (before !== undefined && before !== lead && item.start <= offset) return true;
    return item.end <= offset && instance.scrollDirection !== 'backward';
  };

  // Reads only the scroll offset and the virtualizer's own sizes: nothing here makes the browser lay out again.
  const onScroll = useCallback(() => {
    const el = scroller.current;
    if (!el) return;
    const top = el.scrollTop;
    const height = virtualizer.scrollRect?.height ?? el.clientHeight;
    const fromBottom = virtualizer.getTotalSize() - top - height;
    // the first unread message on screen: the user has come to where the unread ones start (no jump needed now)
    const first = virtualizer.measurementsCache[unreadIndex.current];
    if (first && first.start < top + height && first.end > top) useMessages.getState().sawFirstUnread(conversation);
    const current = useMessages.getState().threads[conversation];
    // the end of a window short of the newest is not the newest: what lies below it is to be loaded
    pinned.current = fromBottom < PINNED_WITHIN && !current?.hasNewer;
    useMessages.getState().setAtNewest(conversation, pinned.current);
    if (current && !current.loading) {
      if (top < LOAD_MORE_AT && current.hasOlder) void loadOlder(conversation);
      else if (fromBottom < LOAD_MORE_AT && current.hasNewer) void loadNewer(conversation);
    }
    if (pinned.current) void markRead(conversation);
  }, [conversation, virtualizer]);

  // Sizes and tops remembered for rows the window dropped would grow with every message scrolled past: forgotten
  // (a row paged in again is estimated, then measured, like a new one).
  useEffect(() => {
    const present = new Set(rows.map((row) => row.key));
    for (const cache of [virtualizer.itemSizeCache, leads.current]) for (const key of cache.keys()) if (!present.has(String(key))) cache.delete(key);
  }, [rows, virtualizer]);

  // A list too short to scroll shows its first unread message from the start (and has no scroll to report it).
  const total = virtualizer.getTotalSize();
  useEffect(() => {
    const height = virtualizer.scrollRect?.height;
    if (unreadIndex.current >= 0 && height !== undefined && total <= height) useMessages.getState().sawFirstUnread(conversation);
  }, [total, rows, conversation, virtualizer]);

  // Opening a conversation, and new messages while pinned: the newest in view.
  const newest = rows.at(-1)?.key;
  useLayoutEffect(() => {
    if (rows.length > 0 && pinned.current) virtualizer.scrollToIndex(rows.length - 1, { align: 'end' });
    // only a new newest row (or the first) moves the view, not rows put in front
  }, [newest, virtualizer]);
  // A send: the list at the newest again, and pinned there, wherever the user was reading.
  const toNewestHandled = useRef(toNewest);
  useLayoutEffect(() => {
    if (toNewest === toNewestHandled.current || rows.length === 0) return;
    toNewestHandled.current = toNewest;
    pinned.current = true;
    virtualizer.scrollToIndex(rows.length - 1, { align: 'end' });
  }, [toNewest, rows, virtualizer]);
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
        {unreadCount > 0 && !unreadSeen && <button type="button" onClick={() => void jumpToFirstUnread(conversation)}>Jump to first unread ({unreadCount})</button>}
        {thread?.hasNewer && <button type="button" onClick={() => void jumpToLatest(conversation)}>Jump to the newest</button>}
      </div>
      <div className="message-scroll" ref={scroller} onScroll={onScroll} role="log" aria-label={`Messages in ${label}`} tabIndex={0} aria-busy={thread?.loading ? true : undefined}>
      <div className="message-canvas" style={{ height: virtualizer.getTotalSize() }}>
        {items.map((item) => {
          const row = rows[item.index]!;
          return (
            <div key={item.key} data-index={item.index} data-key={item.key} ref={virtualizer.measureElement}
              className={`message-slot${row.kind === 'message' && row.id === highlighted ? ' highlighted' : ''}`} style={{ transform: `translateY(${item.start}px)` }}>
              {row.kind === 'message' && row.day && <div className="day-separator" role="separator" aria-label={row.day}><span>{row.day}</span></div>}
              {row.kind === 'message' && row.unread && <div className="day-separator unread-separator" role="separator" aria-label="New messages"><span>New messages</span></div>}
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
