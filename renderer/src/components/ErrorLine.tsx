// A form's failure, announced as it appears.
export function ErrorLine({ error }: { error: string | undefined }) {
  if (!error) return null;
  return <p className="error-line" role="alert">{error}</p>;
}
