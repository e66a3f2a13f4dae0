/**
 * The pipeline file `hrank init <name>` writes: every key with a comment saying what it does and
 * what else it may be. It validates and runs as written (the embedded MNIST digits, 3 widths;
 * a few seconds), and a test keeps it so.
 */

/** The template for a study called `name` (a valid study name: the caller checks it). */
export function studyTemplate(name: string): string {
  return `# ${name}: an hrank study. Run it with
#   npx hrank run <this file>
# Results go to results/${name}/ (the project's results folder, from hrank.yaml) and a lock file
# ${name}.lock.json is written beside this file: commit both files, and \`hrank status\` tells
# whether the results still match the pipeline.
# Every key is documented in hrank's README (section "Pipeline files"); its JSON Schema,
# schemas/pipeline.schema.json in the hrank package, gives editors completion.
version: 1                  # format version of this file (always 1)
name: ${name}${' '.repeat(Math.max(1, 22 - name.length))}# the results folder: results/<name>/
description: Hessian ranks against hidden width   # free text
seed: 1                     # seeds the weights and synthetic data

dataset:
  source: mnist             # mnist (embedded, no download) | idx | cifar10 | gaussian-mixture
  samples: 50               # the first N samples, in file order
  resize: 6                 # images become 6 x 6 (nearest neighbour): input dimension 36
  classes: 10               # 2..10 (samples of other classes are dropped)

model:
  width: 4                  # hidden layers of this width (or: hidden: [8, 8])
  depth: 2                  # number of hidden layers
  activation: linear        # linear | relu | tanh | sigmoid | elu | leaky_relu
  bias: false               # false | true | first (first layer only: exact predictions on [x; 1])
  init: glorot              # glorot | orthogonal | uniform | he

loss: mse                   # mse | cross-entropy | cosh (summed over samples)
hessians: [loss, outer, functional]   # H_L, the outer-product (Gauss-Newton) H_O, the functional H_F

# How ranks are read from each Hessian's eigenvalues (numpy.linalg.matrix_rank's rule). Every
# route computes the Hessian's own eigenvalues, so the route never changes a rank.
rank:
  route: auto               # auto (fastest exact route) | dense (P x P matrices: the reference)
  rtol: null                # relative tolerance; null: NumPy's default, P * eps (at least 1e-14)
  atol: 0                   # absolute floor: tolerance = max(atol, rtol * s_max)

# Train the network before its Hessians are computed (README: "Ranks along training"); sweep
# train.checkpoint: all for one point per checkpoint, plotted with x: train.checkpoint.
# train:
#   optimizer: gd           # gd | sgd | adam (sgd and adam need batch_size)
#   lr: 0.1
#   steps: 1000
#   checkpoints: {from: 0, to: 1000, step: 100}   # 0 = initialisation

# Each sweep key is a dotted path into this file; each value a list or {from, to, step}.
# Several axes make a grid of every combination (mode: zip pairs them element-wise).
sweep:
  model.width: [2, 4, 8]    # e.g. {from: 4, to: 56, step: 4} for the paper's width study

report:
  plots:
    - x: model.width        # a sweep axis
      y: rank               # rank: ranks (lines) and predictions (dots) | difference: rank - prediction
      normalize: params     # plot rank / #params (or: none)
      # aggregate: seed     # with a seed axis: each rank's mean across it, min-max band
`;
}
