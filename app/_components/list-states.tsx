"use client";
import { useUi } from "./ui-context";

export function LoadingState({ label }: { label?: string }) {
  return (
    <div className="notes" aria-busy="true" role="status">
      {label && <span className="visually-hidden">{label}</span>}
      {[0, 1, 2].map((i) => (
        <div key={i} className="card skeleton" aria-hidden="true">
          <span className="skeleton-line" />
          <span className="skeleton-line short" />
        </div>
      ))}
    </div>
  );
}

export function EmptyState() {
  const { t } = useUi();
  return (
    <div className="state" role="status">
      <div className="state-icon" aria-hidden="true">
        ✎
      </div>
      <h2>{t.emptyTitle}</h2>
      <p>{t.emptyHint}</p>
    </div>
  );
}

export function ErrorState({ message, onRetry }: { message: string; onRetry(): void }) {
  const { t } = useUi();
  return (
    <div className="state" role="alert">
      <h2>{message}</h2>
      <button type="button" className="btn btn-plain" onClick={onRetry}>
        {t.retry}
      </button>
    </div>
  );
}
