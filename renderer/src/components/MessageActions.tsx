// A message's actions, as a menu button: the menu opens on its items, arrow keys move through them, Enter picks,
// Escape (or Tab) closes it and focus returns to the button.
import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { Floating } from './Floating.tsx';

export interface Action {
  label: string;
  run(): void;
  danger?: boolean;
}

export function MessageActions({ actions, name }: { actions: Action[]; name: string }) {
  const [open, setOpen] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLUListElement>(null);
  const id = useId();

  useEffect(() => {
    if (!open) return;
    menu.current?.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
    const outside = (event: PointerEvent) => {
      if (!menu.current?.contains(event.target as Node) && event.target !== button.current) setOpen(false);
    };
    document.addEventListener('pointerdown', outside);
    return () => document.removeEventListener('pointerdown', outside);
  }, [open]);

  const items = () => [...(menu.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];
  const onKey = (event: KeyboardEvent) => {
    const all = items();
    const at = all.indexOf(document.activeElement as HTMLElement);
    const to = { ArrowDown: at + 1, ArrowUp: at - 1 + all.length, Home: 0, End: all.length - 1 }[event.key];
    if (to !== undefined) {
      event.preventDefault();
      all[to % all.length]?.focus();
    } else if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      setOpen(false);
      button.current?.focus();
    } else if (event.key === 'Tab') {
      setOpen(false);
    }
  };

  return (
    <div className="message-actions">
      <button ref={button} type="button" className="icon-button actions-button" aria-haspopup="menu" aria-expanded={open} aria-controls={open ? id : undefined}
        aria-label={`Actions for ${name}`} onClick={() => setOpen((o) => !o)}>⋯</button>
      {open && (
        <Floating anchor={button.current}>
        <ul ref={menu} id={id} role="menu" aria-label={`Actions for ${name}`} className="menu" onKeyDown={onKey}>
          {actions.map((a) => (
            <li key={a.label} role="none">
              <button type="button" role="menuitem" tabIndex={-1} className={a.danger ? 'danger' : undefined}
                onClick={() => { setOpen(false); a.run(); }}>{a.label}</button>
            </li>
          ))}
        </ul>
        </Floating>
      )}
    </div>
  );
}
