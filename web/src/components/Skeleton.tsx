export function CardSkeletons({ count = 5 }: { count?: number }) {
  return (
    <div className="skeletons" aria-busy="true" aria-live="polite">
      <span className="visually-hidden">Loading…</span>
      {Array.from({ length: count }, (_, i) => (
        <div key={i} className="card skeleton" aria-hidden="true">
          <div className="bar wide" />
          <div className="bar" />
          <div className="bar short" />
        </div>
      ))}
    </div>
  );
}
