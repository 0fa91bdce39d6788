// The emoji picker: a search box and the emoji by group, every one a button named by its label. Arrow keys move
// through the grid (one tab stop for all of it), Enter picks, Escape closes and gives focus back. Loaded lazily
// with its data (lib/emoji.ts), so the first screen never waits for it.
import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { GROUPS, loadEmoji, REACTION_MAX, searchEmoji, type Emoji } from '../lib/emoji.ts';

const COLUMNS = 9;

export interface EmojiPickerProps {
  /** what picking does, for the dialog's name: "Add a reaction", "Insert an emoji" */
  label: string;
  /** reactions take only emoji the contract carries (at most REACTION_MAX code units) */
  forReaction?: boolean;
  onPick(emoji: string): void;
  onClose(): void;
}

export default function EmojiPicker({ label, forReaction, onPick, onClose }: EmojiPickerProps) {
  const [all, setAll] = useState<Emoji[] | null>(null);
  const [failed, setFailed] = useState<string>();
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  // Enter in the search before the emoji data is in (its first load, ~700 KB, takes a while on a slow machine):
  // the first match is picked once it arrives, instead of the key doing nothing and the reaction never being sent
  const [pickWhenLoaded, setPickWhenLoaded] = useState(false);
  const root = useRef<HTMLDivElement>(null);
  const grid = useRef<HTMLDivElement>(null);
  const searchBox = useRef<HTMLInputElement>(null);
  const close = useRef(onClose);
  close.current = onClose;
  const pick = useRef(onPick);
  pick.current = onPick;

  useEffect(() => {
    let live = true;
    loadEmoji().then((emoji) => live && setAll(forReaction ? emoji.filter((e) => e.unicode.length <= REACTION_MAX) : emoji), (error: Error) => live && setFailed(error.message));
    searchBox.current?.focus();
    const outside = (event: PointerEvent) => {
      if (!root.current?.contains(event.target as Node)) close.current();
    };
    document.addEventListener('pointerdown', outside);
    return () => {
      live = false;
      document.removeEventListener('pointerdown', outside);
    };
  }, [forReaction]);

  const shown = useMemo(() => (all ? searchEmoji(all, query) : []), [all, query]);
  useEffect(() => {
    if (!pickWhenLoaded || !all) return;
    setPickWhenLoaded(false);
    if (shown[0]) pick.current(shown[0].unicode);
  }, [pickWhenLoaded, all, shown]);
  const groups = useMemo(() => {
    if (query.trim()) return [{ name: `Results for “${query.trim()}”`, emoji: shown.map((e, i) => ({ e, i })) }];
    const byGroup = new Map<number, { e: Emoji; i: number }[]>();
    shown.forEach((e, i) => byGroup.set(e.group, [...(byGroup.get(e.group) ?? []), { e, i }]));
    return [...byGroup].map(([group, emoji]) => ({ name: GROUPS[group] ?? 'Other', emoji }));
  }, [shown, query]);

  const focusAt = (index: number) => {
    const next = Math.max(0, Math.min(shown.length - 1, index));
    setActive(next);
    grid.current?.querySelector<HTMLElement>(`[data-index="${next}"]`)?.focus();
  };

  const onGridKey = (event: KeyboardEvent) => {
    const moves: Record<string, number> = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: COLUMNS, ArrowUp: -COLUMNS };
    if (event.key in moves) {
      event.preventDefault();
      if (event.key === 'ArrowUp' && active < COLUMNS) searchBox.current?.focus();
      else focusAt(active + moves[event.key]!);
    } else if (event.key === 'Home') {
      event.preventDefault();
      focusAt(0);
    } else if (event.key === 'End') {
      event.preventDefault();
      focusAt(shown.length - 1);
    }
  };

  const onSearchKey = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'ArrowDown' && shown.length) {
      event.preventDefault();
      focusAt(0);
    } else if (event.key === 'Enter') {
      event.preventDefault();
      if (!all) setPickWhenLoaded(true);
      else if (shown[0]) onPick(shown[0].unicode);
    }
  };

  return (
    <div ref={root} className="emoji-picker" role="dialog" aria-label={label}
      onKeyDown={(e) => { if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); onClose(); } }}>
      <input ref={searchBox} type="search" className="emoji-search" aria-label="Search emoji" placeholder="Search emoji" value={query}
        onChange={(e) => { setQuery(e.target.value); setActive(0); setPickWhenLoaded(false); }} onKeyDown={onSearchKey} />
      {failed && <p className="error-line" role="alert">The emoji could not be loaded: {failed}</p>}
      {!all && !failed && <p className="hint" role="status">Loading emoji…{pickWhenLoaded && ' The first match is picked when they are in.'}</p>}
      {all && shown.length === 0 && <p className="hint" role="status">No emoji match “{query}”.</p>}
      <div ref={grid} className="emoji-groups" onKeyDown={onGridKey}>
        {groups.map((group) => (
          <section key={group.name} aria-label={group.name}>
            <h3 className="emoji-group-name">{group.name}</h3>
            <div className="emoji-grid" role="group" aria-label={group.name}>
              {group.emoji.map(({ e, i }) => (
                <button key={e.unicode} type="button" className="emoji-button" data-index={i} tabIndex={i === active ? 0 : -1}
                  aria-label={e.label} title={e.shortcodes[0] ? `${e.label} :${e.shortcodes[0]}:` : e.label}
                  onFocus={() => setActive(i)} onClick={() => onPick(e.unicode)}>{e.unicode}</button>
              ))}
            </div>
          </section>
        ))}
      </div>
    </div>
  );
}
