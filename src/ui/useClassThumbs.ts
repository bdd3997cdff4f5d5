import { useEffect, useState } from 'react';
import { POOLS_BASE_URL } from '../config';
import { loadClassThumbs, type ClassThumbs } from '../io/classThumbs';
import { useAppStore } from '../store';

/** The built-in pool's class pictures (a pool opened from elsewhere shows names only). */
export function useClassThumbs(): ClassThumbs | null {
  const poolId = useAppStore((s) => s.poolId);
  const origin = useAppStore((s) => s.poolOrigin);
  const [thumbs, setThumbs] = useState<ClassThumbs | null>(null);
  useEffect(() => {
    let live = true;
    setThumbs(null);
    if (poolId && !origin) void loadClassThumbs(`${POOLS_BASE_URL}${poolId}/`).then((t) => live && setThumbs(t));
    return () => { live = false; };
  }, [poolId, origin]);
  return thumbs;
}
