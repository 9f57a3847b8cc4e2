package org.djlparity.d2l;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.dataset.RandomAccessDataset;
import ai.djl.training.dataset.Record;
import ai.djl.util.Pair;
import ai.djl.util.Progress;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/**
 * The Time Machine as (numSteps)-token windows (docs/notebook.md, "Dataset"). Record index =
 * window * batchSize + row, so sequential sampling gives batch k = window k and row r of batch k
 * continues row r of batch k-1.
 *
 * <p>Deviation from the original: the original creates its record arrays with a hard-coded
 * second dimension of 35 and fails for any other numSteps; this class accepts any numSteps.
 */
public class TimeMachineDataset extends RandomAccessDataset {

    private final int numSteps;
    private final int maxTokens;
    private final Path dataFile;
    private final NDManager manager;
    private Integer offset;
    private Vocab vocab;
    private List<Integer> corpus;
    private NDArray data;
    private NDArray labels;
    private boolean prepared;

    TimeMachineDataset(Builder builder) {
        super(builder);
        numSteps = builder.numSteps;
        maxTokens = builder.maxTokens;
        dataFile = builder.dataFile;
        manager = builder.manager;
        offset = builder.offset;
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public Record get(NDManager m, long index) {
        return new Record(new NDList(data.get(index)), new NDList(labels.get(index)));
    }

    @Override
    protected long availableSize() {
        return data.getShape().get(0);
    }

    @Override
    public void prepare(Progress progress) throws IOException {
        if (prepared) {
            return;
        }
        Pair<List<Integer>, Vocab> p = TimeMachine.loadCorpusTimeMachine(dataFile, maxTokens);
        corpus = p.getKey();
        vocab = p.getValue();
        if (offset == null) {
            // unseeded, like the original: every run differs unless optOffset is given
            offset = new Random().nextInt(numSteps);
        }
        int batchSize = sampler.getBatchSize();
        int numTokens = ((corpus.size() - offset - 1) / batchSize) * batchSize;
        int cols = numTokens / batchSize; // Xs and Ys are (batchSize, cols), row-major
        int numBatches = cols / numSteps;
        int rows = numBatches * batchSize;
        int[] x = new int[rows * numSteps];
        int[] y = new int[rows * numSteps];
        for (int w = 0; w < numBatches; w++) {
            for (int r = 0; r < batchSize; r++) {
                int rec = w * batchSize + r;
                for (int t = 0; t < numSteps; t++) {
                    int src = offset + r * cols + w * numSteps + t;
                    x[rec * numSteps + t] = corpus.get(src);
                    y[rec * numSteps + t] = corpus.get(src + 1);
                }
            }
        }
        data = manager.create(x, new Shape(rows, numSteps));
        labels = manager.create(y, new Shape(rows, numSteps));
        prepared = true;
    }

    /** The offset; chosen in prepare() unless given with optOffset. */
    public int getOffset() {
        return offset == null ? -1 : offset;
    }

    public Vocab getVocab() {
        return vocab;
    }

    public List<Integer> getCorpus() {
        return corpus;
    }

    /** Builder; sampling (batch size, random) comes from the inherited setSampling. */
    public static final class Builder extends BaseBuilder<Builder> {
        int numSteps;
        int maxTokens;
        Path dataFile;
        NDManager manager;
        Integer offset;

        @Override
        protected Builder self() {
            return this;
        }

        public Builder setSteps(int steps) {
            this.numSteps = steps;
            return this;
        }

        public Builder setMaxTokens(int maxTokens) {
            this.maxTokens = maxTokens;
            return this;
        }

        /** The text file; without it, the text at {@link TimeMachine#DATA_URL} as in the book. */
        public Builder setDataFile(Path dataFile) {
            this.dataFile = dataFile;
            return this;
        }

        public Builder setManager(NDManager manager) {
            this.manager = manager;
            return this;
        }

        /** Fixes the offset (default: new java.util.Random().nextInt(numSteps), unseeded). */
        public Builder optOffset(int offset) {
            this.offset = offset;
            return this;
        }

        public TimeMachineDataset build() {
            if (numSteps <= 0 || manager == null) {
                throw new IllegalArgumentException("numSteps and manager are required");
            }
            return new TimeMachineDataset(this);
        }
    }
}
