// A link preview as the sender's device made it: text, and a thumbnail drawn from the bytes that came inside the
// message (a blob: URL made here), so opening the conversation never contacts the site. The title is a SafeLink:
// the card shows the real domain and warns like any other link.
import { useEffect, useState } from 'react';
import type { LinkPreviewViewT } from '../../../core/api/contract.ts';
import { fromBase64 } from '../lib/bytes.ts';
import { checkLink } from '../lib/links.ts';
import { SafeLink } from './SafeLink.tsx';

/** A blob: URL for base64 bytes (standard or URL-safe), revoked when the component goes. */
export function useBlobUrl(base64: string | undefined, type: string): string | null {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    if (!base64) return;
    const made = URL.createObjectURL(new Blob([fromBase64(base64)], { type }));
    setUrl(made);
    return () => URL.revokeObjectURL(made);
  }, [base64, type]);
  return url;
}

export function LinkPreviewCard({ preview }: { preview: LinkPreviewViewT }) {
  const image = useBlobUrl(preview.image?.jpeg, 'image/jpeg');
  const check = checkLink(preview.url);
  if (!check) return null;
  return (
    <aside className="link-preview" aria-label={`Link preview: ${preview.title}`}>
      {image && preview.image && <img src={image} alt="" width={preview.image.width} height={preview.image.height} />}
      <div className="link-preview-text">
        <span className="link-preview-site">{check.domain ?? check.host}</span>
        <SafeLink href={preview.url} text={preview.title} hostShown><strong>{preview.title}</strong></SafeLink>
        {preview.description && <p>{preview.description}</p>}
      </div>
    </aside>
  );
}
