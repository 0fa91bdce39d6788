// A QR code as SVG elements React builds from the encoder's module matrix: no markup is ever injected.
import { memo, useMemo } from 'react';
import { qrMatrix } from '../lib/safety-number.ts';

/** The quiet zone the QR standard asks for around the code, in modules. */
const QUIET = 4;

export const QrCode = memo(function QrCode({ text, label }: { text: string; label: string }) {
  const matrix = useMemo(() => qrMatrix(text), [text]);
  const size = matrix.size + QUIET * 2;
  return (
    <svg className="qr" role="img" aria-label={label} viewBox={`0 0 ${size} ${size}`} shapeRendering="crispEdges">
      <rect width={size} height={size} fill="#ffffff" />
      {matrix.runs.map(([x, y, length]) => <rect key={`${x}-${y}`} x={x + QUIET} y={y + QUIET} width={length} height={1} fill="#000000" />)}
    </svg>
  );
});
