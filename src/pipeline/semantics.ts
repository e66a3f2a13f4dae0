/**
 * Checks of whole points that the schema cannot express: settings each valid alone that together
 * describe a computation with no meaning. Each is reported once, at the entry that makes it so
 * (a swept value when the sweep does, else the key in the file).
 */
import { getPath } from './paths.js';
import type { Issue } from './schema.js';
import type { Axis, PathSegment, Point } from './types.js';

/**
 * Where to point for a conflict that `paths` take part in: the first swept item (list form) or
 * range of these paths that holds the point's value, else the first of `paths` written in the file.
 */
function blame(point: Point, axes: readonly Axis[], paths: readonly string[], document: unknown): { path: PathSegment[]; swept: boolean } {
  for (const p of paths) {
    const axis = axes.find((a) => a.path === p);
    if (!axis) continue;
    const value = point.coords[p];
    const i = axis.values.findIndex((v) => v === value);
    return { path: axis.form === 'list' && i >= 0 ? ['sweep', p, i] : ['sweep', p], swept: true };
  }
  for (const p of paths) {
    const segs = p.split('.');
    if (getPath(document, segs) !== undefined) return { path: segs, swept: false };
  }
  return { path: (paths[0] ?? '').split('.'), swept: false };
}

/**
 * `loss: cross-entropy` with `classes: 2` and the one-output targets (`two_class_targets: pm1`,
 * the default): a softmax over one output is the constant 1, so the loss, its gradient and every
 * Hessian are zero and every rank and prediction would be 0, "equal" and meaningless.
 */
function oneOutputSoftmax(points: readonly Point[], axes: readonly Axis[], document: unknown): Issue[] {
  const bad = points.filter((p) => p.config.loss === 'cross-entropy' && p.config.dataset.classes === 2 && p.config.dataset.two_class_targets === 'pm1');
  if (bad.length === 0) return [];
  const first = bad[0] as Point;
  const at = blame(first, axes, ['loss', 'dataset.classes', 'dataset.two_class_targets'], document);
  const which = axes.length === 0 ? '' : bad.length === points.length ? 'at every point: ' : `at ${bad.length === 1 ? 'point' : `${bad.length} points, first`} ${first.id}: `;
  return [{
    code: 'conflict',
    path: at.path,
    target: at.swept ? 'value' : 'key',
    message:
      `${which}loss cross-entropy with classes: 2 and one output per sample (two_class_targets: pm1${getPath(document, ['dataset', 'two_class_targets']) === undefined ? ', the default' : ''}); ` +
      'a softmax over one output is constant, so the loss, its gradient and every Hessian are zero',
    hint: 'add two_class_targets: onehot under dataset (two outputs, softmax cross-entropy), or use loss: mse with the -1/+1 targets',
  }];
}

/** Every conflict of the expanded points (empty when there is none). */
export function pointIssues(points: readonly Point[], axes: readonly Axis[], document: unknown): Issue[] {
  return [...oneOutputSoftmax(points, axes, document)];
}
