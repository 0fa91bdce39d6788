// The emoji picker, fetched with its data the first time one opens.
import { lazy, Suspense } from 'react';
import type { EmojiPickerProps } from './EmojiPicker.tsx';
import { Floating } from './Floating.tsx';

const Picker = lazy(() => import('./EmojiPicker.tsx'));

/** `anchor`: what opened it (the picker floats beside it, and focus goes back to it when it closes). */
export function LazyEmojiPicker({ anchor, ...props }: EmojiPickerProps & { anchor: HTMLElement | null }) {
  return (
    <Floating anchor={anchor}>
      <Suspense fallback={<div className="emoji-picker" role="status">Loading emoji…</div>}>
        <Picker {...props} />
      </Suspense>
    </Floating>
  );
}
