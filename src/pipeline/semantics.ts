/**
 * Checks of whole points that the schema cannot express: settings each valid alone that together
 * describe a computation with no meaning. Each is reported once, at the entry that makes it so
 * (a swept value when the sweep does, else the key in the file).
 */
import { ConvShapeError, convStack, describeShape } from '../science/conv.js';
import { imageShape } from './image.js';
import { formatPath, getPath, isRecord } from './paths.js';
import type { Issue } from './schema.js';
import type { ImageShape } from '../science/types.js';
import type { Axis, PathSegment, Point, SweepValue } from './types.js';

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

/**
 * The `train` section against the rest of a point: checkpoints in increasing order, within
 * `steps`; the point's checkpoint one of them; batch_size given exactly for the minibatch
 * optimisers and at most the samples. Each reported once, at its first point.
 */
function trainIssues(points: readonly Point[], axes: readonly Axis[], document: unknown): Issue[] {
  const out: Issue[] = [];
  const seen = new Set<string>();
  const report = (p: Point, paths: readonly string[], message: string, hint?: string): void => {
    const at = blame(p, axes, paths, document);
    const which = axes.length === 0 ? '' : `at point ${p.id}: `;
    const sig = `${at.path.join('.')}\u0000${message}`;
    if (seen.has(sig)) return;
    seen.add(sig);
    out.push({ code: 'bad-value', path: at.path, target: 'value', message: `${which}${message}`, ...(hint === undefined ? {} : { hint }) });
  };
  for (const p of points) {
    const t = p.config.train;
    if (t === null) continue;
    const raw = getPath(document, ['train', 'checkpoints']);
    if (t.checkpoints.length === 0) {
      report(p, ['train.checkpoints'], `the range of checkpoints is empty: 'to' is below 'from'`, 'a range counts upwards from from to to');
      continue;
    }
    const order = t.checkpoints.findIndex((c, i) => i > 0 && c <= t.checkpoints[i - 1]!);
    if (order > 0) {
      const at = Array.isArray(raw) ? ['train', 'checkpoints', order] : ['train', 'checkpoints'];
      const c = t.checkpoints[order]!, prev = t.checkpoints[order - 1]!;
      const msg = c === prev ? `checkpoint ${c} is listed twice` : `checkpoint ${c} comes after ${prev}; list checkpoints in increasing order`;
      const sig = `${at.join('.')}\u0000${msg}`;
      if (!seen.has(sig)) { seen.add(sig); out.push({ code: 'bad-value', path: at, target: 'value', message: msg }); }
      continue;
    }
    const last = t.checkpoints[t.checkpoints.length - 1]!;
    if (last > t.steps) {
      const beyond = t.checkpoints.filter((c) => c > t.steps);
      const stepsSwept = axes.some((a) => a.path === 'train.steps');
      if (!stepsSwept && raw !== undefined) {
        const at = Array.isArray(raw) ? ['train', 'checkpoints', raw.findIndex((c) => typeof c === 'number' && c > t.steps)] : ['train', 'checkpoints', 'to'];
        const msg = `checkpoint ${Array.isArray(raw) ? t.checkpoints.find((c) => c > t.steps) : last} is beyond train.steps (${t.steps}); a checkpoint is a step of the run, 0 to ${t.steps}`;
        const sig = `${at.join('.')}\u0000${msg}`;
        if (!seen.has(sig)) { seen.add(sig); out.push({ code: 'bad-value', path: at, target: 'value', message: msg, hint: `raise steps to ${last}, or end the checkpoints at ${t.steps}` }); }
        continue;
      }
      report(p, ['train.steps', 'train.checkpoints'],
        `checkpoint${beyond.length === 1 ? '' : 's'} ${beyond.slice(0, 3).join(', ')}${beyond.length > 3 ? ', ...' : ''} beyond train.steps (${t.steps}); a checkpoint is a step of the run, 0 to ${t.steps}`,
        `raise steps to ${last}, or end the checkpoints at ${t.steps}`);
    }
    if (!t.checkpoints.includes(t.checkpoint)) {
      report(p, ['train.checkpoint'], `train.checkpoint ${t.checkpoint} is not one of train.checkpoints (${t.checkpoints.length <= 6 ? t.checkpoints.join(', ') : `${t.checkpoints.slice(0, 3).join(', ')}, ..., ${last}`})`,
        'the Hessians are computed at a kept checkpoint: pick one of them, or add it to checkpoints');
    }
    if (t.optimizer === 'gd' && t.batch_size !== null) {
      report(p, ['train.batch_size'], 'gd takes a full-batch step on every sample; batch_size is for sgd and adam', 'remove batch_size, or set optimizer: sgd or adam');
    } else if (t.optimizer !== 'gd' && t.batch_size === null) {
      report(p, ['train.optimizer'], `${t.optimizer} needs train.batch_size (samples per minibatch)`, `add batch_size under train, at most dataset.samples (${p.config.dataset.samples})`);
    } else if (t.batch_size !== null && t.batch_size > p.config.dataset.samples) {
      report(p, ['train.batch_size', 'dataset.samples'], `train.batch_size ${t.batch_size} is larger than the ${p.config.dataset.samples} samples trained on`, `at most ${p.config.dataset.samples}`);
    }
  }
  return out;
}

/**
 * Where a point's bad setting is: the sweep entry of the first of `paths` (segments) that is an
 * axis (its list item holding the point's value), else the first of them written in the file.
 */
function blameSegments(point: Point, axes: readonly Axis[], paths: readonly (readonly PathSegment[])[], document: unknown): { path: PathSegment[]; swept: boolean } {
  for (const p of paths) {
    const shown = formatPath(p);
    const axis = axes.find((a) => formatPath(a.segments) === shown);
    if (!axis) continue;
    const value = point.coords[axis.path];
    const i = axis.values.findIndex((v) => JSON.stringify(v) === JSON.stringify(value));
    return { path: axis.form === 'list' && i >= 0 ? ['sweep', axis.path, i] : ['sweep', axis.path], swept: true };
  }
  for (const p of paths) if (getPath(document, p) !== undefined) return { path: [...p], swept: false };
  return { path: [...(paths[0] ?? [])], swept: false };
}

/** A `model.layers` list (as written or swept) whose conv layers do not all come first: the index of the first conv after a dense layer. */
function convAfterDense(layers: unknown): number | undefined {
  if (!Array.isArray(layers)) return undefined;
  let dense = false;
  for (const [i, l] of layers.entries()) {
    if (!isRecord(l)) continue;
    if ('dense' in l) dense = true;
    else if ('conv' in l && dense) return i;
  }
  return undefined;
}

/**
 * Conv layers: they come before every dense layer (a dense layer flattens the image); they need
 * an image dataset; and each point's shapes must resolve (a kernel no larger than its input, a
 * stride that fits), reported at the layer's setting, or at the swept value that makes it so,
 * with the shape the layer would see.
 */
function convIssues(points: readonly Point[], axes: readonly Axis[], document: unknown): Issue[] {
  const out: Issue[] = [];
  const seen = new Set<string>();
  const push = (issue: Issue): void => {
    const sig = `${formatPath(issue.path)}\u0000${issue.message}`;
    if (seen.has(sig)) return;
    seen.add(sig);
    out.push(issue);
  };
  const orderMessage = 'a conv layer after a dense layer: a dense layer flattens the image, so every conv layer comes before the first dense layer';
  const written = convAfterDense(getPath(document, ['model', 'layers']));
  if (written !== undefined) push({ code: 'bad-value', path: ['model', 'layers', written, 'conv'], target: 'key', message: orderMessage, hint: 'move this conv layer above the dense layers' });
  for (const axis of axes) {
    if (formatPath(axis.segments) !== 'model.layers') continue;
    axis.values.forEach((v: SweepValue, i) => {
      const at = convAfterDense(v);
      if (at !== undefined) push({ code: 'bad-sweep', path: axis.form === 'list' ? ['sweep', axis.path, i, at, 'conv'] : ['sweep', axis.path], target: 'key', message: `value for model.layers: ${orderMessage}` });
    });
  }
  if (out.length > 0) return out;

  // cifar10: `channel` picks one plane; with channels: 3 every plane is read, so it says nothing.
  if (getPath(document, ['dataset', 'channel']) !== undefined && points.some((p) => p.config.dataset.source === 'cifar10' && p.config.dataset.channels === 3)) {
    push({
      code: 'conflict', path: ['dataset', 'channel'], target: 'key',
      message: "'channel' picks one colour plane, but channels: 3 reads all three (red, green, blue)",
      hint: 'remove channel, or set channels: 1 to keep only that plane',
    });
  }

  // One image shape per distinct dataset (IDX at native size reads its headers once).
  const shapes = new Map<string, ImageShape | undefined | null>();
  const shapeOf = (p: Point): ImageShape | undefined | null => {
    const key = JSON.stringify(p.config.dataset);
    if (!shapes.has(key)) {
      try {
        shapes.set(key, imageShape(p.config.dataset));
      } catch {
        shapes.set(key, null); // unreadable IDX headers: the dataset file checks say why
      }
    }
    return shapes.get(key);
  };
  for (const p of points) {
    const conv = p.config.model.conv;
    if (conv === undefined) continue;
    const which = axes.length === 0 ? '' : `at point ${p.id}: `;
    const shape = shapeOf(p);
    if (shape === null) continue;
    if (shape === undefined) {
      const at = blameSegments(p, axes, [['dataset', 'source'], ['model', 'layers', 0, 'conv']], document);
      push({
        code: 'conflict', path: at.path, target: at.swept ? 'value' : 'key',
        message: `${at.swept ? which : ''}conv layers need images, but source ${p.config.dataset.source} gives plain vectors`,
        hint: 'use an image source (mnist, idx, cifar10), or replace the conv layers by dense ones',
      });
      continue;
    }
    try {
      convStack(shape, conv);
    } catch (err) {
      if (!(err instanceof ConvShapeError)) throw err;
      const layer: PathSegment[] = ['model', 'layers', err.layer, 'conv'];
      // What decides a layer's shape: its kernel, stride and padding, the earlier layers' and the
      // image (channels never do: a sweep of them is not to blame).
      const others = (['kernel', 'stride', 'padding'] as const).filter((k) => k !== err.key);
      const candidates: PathSegment[][] = [
        [...layer, err.key], ...others.map((k) => [...layer, k]),
        ['dataset', 'resize'], ['dataset', 'source'],
        ...Array.from({ length: err.layer }, (_, l) => (['kernel', 'stride', 'padding'] as const).map((k) => ['model', 'layers', l, 'conv', k])).flat(),
        ['model', 'layers', err.layer], ['model', 'layers'],
      ];
      // Swept: at the sweep entry. Not swept: at the layer's own setting (written, or else its mapping).
      const at = blameSegments(p, axes, candidates, document);
      const own = getPath(document, [...layer, err.key]) !== undefined;
      push({
        code: at.swept ? 'bad-sweep' : 'bad-value',
        path: at.swept ? at.path : own ? [...layer, err.key] : layer,
        target: at.swept || own ? 'value' : 'key',
        // Not swept: the same problem at every point, so said once, without a point.
        message: `${at.swept ? which : ''}${err.message}`,
        hint: `the image is ${describeShape(shape)}${p.config.dataset.source !== 'gaussian-mixture' && 'resize' in p.config.dataset && p.config.dataset.resize ? ` (resize ${p.config.dataset.resize})` : ''}; a valid-padding conv layer's output side is (side - kernel) / stride + 1; padding: same keeps ceil(side / stride)`,
      });
    }
  }
  return out;
}

/** Every conflict of the expanded points (empty when there is none). */
export function pointIssues(points: readonly Point[], axes: readonly Axis[], document: unknown): Issue[] {
  return [...oneOutputSoftmax(points, axes, document), ...trainIssues(points, axes, document), ...convIssues(points, axes, document)];
}
