import { useEffect, useState } from 'react';
import { loadClassThumbs, type ClassThumbs } from '../io/classThumbs';

export function useClassThumbs(): ClassThumbs | null {
  const [thumbs, setThumbs] = useState<ClassThumbs | null>(null);
  useEffect(() => {
    let live = true;
    void loadClassThumbs().then((t) => live && setThumbs(t));
    return () => { live = false; };
  }, []);
  return thumbs;
}
