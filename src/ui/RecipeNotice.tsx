import { useAppStore } from '../store';

/** What a shared link or project did: applied (with undo), needs another pool, differs (build anyway), or refused. */
export function RecipeNotice() {
  const notice = useAppStore((s) => s.recipeNotice);
  const buildAnyway = useAppStore((s) => s.buildRecipeAnyway);
  const undo = useAppStore((s) => s.undoRecipe);
  const dismiss = useAppStore((s) => s.dismissRecipeNotice);
  if (!notice) return null;
  const alert = notice.kind === 'error' || notice.kind === 'needs-pool' || notice.kind === 'mismatch';
  return (
    <div className={`panel recipe-notice recipe-${notice.kind}`} data-testid="recipe-notice" data-kind={notice.kind} data-code={notice.code ?? ''}
      role={alert ? 'alert' : 'status'}>
      <p className={alert ? 'error' : undefined}>{notice.code && notice.kind !== 'applied' ? `${notice.code}: ` : ''}{notice.message}</p>
      <div className="share-tools">
        {notice.canForce && <button type="button" onClick={() => void buildAnyway()}>Build it from this pool anyway</button>}
        {notice.canUndo && <button type="button" onClick={() => void undo()}>Back to my previous selection</button>}
        {notice.kind !== 'opening' && <button type="button" onClick={dismiss}>Dismiss</button>}
      </div>
    </div>
  );
}
