// A popup (a menu, the emoji picker) over everything, beside the element that opened it: in document.body, so no
// scrolling list or transformed row clips it; above its anchor when there is room there, else below, kept on screen.
import { useLayoutEffect, useRef, useState, type ReactNode } from 'react';
import { createPortal } from 'react-dom';

const GAP = 4;

export function Floating({ anchor, children }: { anchor: HTMLElement | null; children: ReactNode }) {
  const box = useRef<HTMLDivElement>(null);
  const [at, setAt] = useState<{ left: number; top: number } | null>(null);
  useLayoutEffect(() => {
    const el = box.current;
    if (!el || !anchor) return;
    const a = anchor.getBoundingClientRect();
    const { width, height } = el.getBoundingClientRect();
    const above = a.top - height - GAP;
    const top = above >= 8 ? above : Math.min(a.bottom + GAP, window.innerHeight - height - 8);
    const left = Math.max(8, Math.min(a.right - width, window.innerWidth - width - 8));
    setAt({ left, top: Math.max(8, top) });
  }, [anchor]);
  return createPortal(
    <div ref={box} className="floating" style={at ? { left: at.left, top: at.top } : { visibility: 'hidden', left: 0, top: 0 }}>{children}</div>,
    document.body,
  );
}
