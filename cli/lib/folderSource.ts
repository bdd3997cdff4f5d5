// TEMPORARY shim while tests migrate to openPool (src/node.ts); removed before commit.
import { fetchPool } from '../../src/ml/poolFetch';
import { instantiatePool, type LoadedPool } from '../../src/ml/poolModels';
import { folderSource } from '../../src/node/folderSource';
export { folderSource };
export async function loadPoolFromDir(dir: string): Promise<LoadedPool> {
  return instantiatePool(await fetchPool(folderSource(dir)));
}
