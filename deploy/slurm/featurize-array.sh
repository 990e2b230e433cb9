#!/bin/bash
# effnet featurize as a Slurm job array: array task k featurizes shard k of SLURM_ARRAY_TASK_COUNT.
# Set the paths below and the array size (--array=0-(N-1)), then: sbatch deploy/slurm/featurize-array.sh
# A task that fails or is pre-empted is requeued; the rerun reuses what the node's feature cache kept,
# and a shard already written is skipped. When every task is done (sbatch --dependency=afterok:JOBID):
#   effnet merge --in "$FEATURES" --out features.parquet
#SBATCH --job-name=effnet-featurize
#SBATCH --array=0-3
#SBATCH --cpus-per-task=2
#SBATCH --mem=2G
#SBATCH --requeue
set -euo pipefail

DATA=${DATA:-/shared/photos}                # the images, the same tree on every node
FEATURES=${FEATURES:-/shared/features}      # shared: each task writes part-K-of-N.parquet here
WEIGHTS=${WEIGHTS:-/shared/weights/efficientnet_b0_rwightman-3dd342df.pth}
# The feature cache is SQLite: keep it on the node's local disk, never on the shared file system.
export EFFNET_HOME=${EFFNET_HOME:-/tmp/effnet-$USER}

effnet featurize --data "$DATA" --out "$FEATURES" --shards "$SLURM_ARRAY_TASK_COUNT" --weights "$WEIGHTS"
