package org.djlparity.d2l;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.RandomAccessDataset;
import ai.djl.training.loss.Loss;
import ai.djl.translate.TranslateException;
import ai.djl.util.Pair;

import java.io.IOException;
import java.util.Iterator;

/**
 * One epoch of trainEpochCh8, one batch per {@link #step()}. trainEpochCh8 runs it to the end;
 * the bridge's TrainSession drives it batch by batch, so both share this code path.
 */
public final class Ch8Epoch {

    /** Optional hooks for inspection; called at the points named, never changing anything. */
    public interface Observer {
        void afterForward(NDArray yHat, NDList stateOut, float loss);

        void afterBackward();

        void afterClipping(Training.Clip clip);

        void afterUpdate();
    }

    private final Object net;
    private final Loss loss;
    private final Updater updater;
    private final Device device;
    private final boolean useRandomIter;
    private final NDManager manager;
    private final NDManager childManager;
    private final Iterator<Batch> batches;
    private final StopWatch watch = new StopWatch();
    private final Accumulator metric = new Accumulator(2); // sum of loss, no. of tokens
    private NDList state;
    private float lastLoss = Float.NaN;
    private Training.Clip lastClip;
    private Observer observer;
    private boolean finished;
    private boolean discardStopGradient;

    public Ch8Epoch(
            Object net,
            RandomAccessDataset dataset,
            Loss loss,
            Updater updater,
            Device device,
            boolean useRandomIter,
            NDManager manager)
            throws IOException, TranslateException {
        this.net = net;
        this.loss = loss;
        this.updater = updater;
        this.device = device;
        this.useRandomIter = useRandomIter;
        this.manager = manager;
        watch.start();
        childManager = manager.newSubManager();
        batches = dataset.getData(childManager).iterator();
    }

    public void setObserver(Observer observer) {
        this.observer = observer;
    }

    /**
     * As published: call stopGradient() on the carried state and drop its result, so the state
     * stays attached to the previous batch's graph (off by default: the state is detached).
     */
    public void setDiscardStopGradient(boolean discard) {
        this.discardStopGradient = discard;
    }

    public float lastLoss() {
        return lastLoss;
    }

    /** What the last step's clipping measured. */
    public Training.Clip lastClip() {
        return lastClip;
    }

    /** Trains on the next batch; false when the epoch has no batch left. */
    public boolean step() {
        if (finished || !batches.hasNext()) {
            return false;
        }
        trainBatch(batches.next());
        return true;
    }

    private static NDList detach(NDList list) {
        NDList out = new NDList(list.size());
        for (NDArray s : list) {
            out.add(s.stopGradient());
        }
        return out;
    }

    private void trainBatch(Batch batch) {
        NDArray X = batch.getData().head().toDevice(device, true);
        NDArray Y = batch.getLabels().head().toDevice(device, true);
        boolean scratch = net instanceof RNNModelScratch;
        boolean fromBoundary = scratch && (state == null || useRandomIter);
        if (fromBoundary) {
            // first batch, or random sampling: fresh zero state (scratch model only)
            state = ((RNNModelScratch) net).beginState((int) X.getShape().get(0), device);
        } else if (state != null && discardStopGradient) {
            for (NDArray s : state) {
                s.stopGradient(); // the published loop's call; its result is dropped
            }
        } else if (state != null) {
            // Sequential carry-over: detach the previous batch's state (docs/notebook.md, "Training").
            // QUIRK kept: a concise model keeps its state across batches even with random
            // sampling; only the scratch model is reset above.
            state = detach(state);
        }
        if (state != null) {
            state.attach(childManager);
        }
        NDArray y = Y.transpose(1, 0).reshape(new Shape(-1));
        NDArray yHat;
        float l;
        if (net instanceof BiRnnHand) { // gradients by hand, no GradientCollector
            BiRnnHand.Step r = ((BiRnnHand) net).handStep(X, y, state, fromBoundary, loss);
            yHat = r.logits;
            state = r.state;
            l = r.loss.getFloat();
            metric.add(new float[] {l * y.size(), y.size()});
        } else {
            try (GradientCollector gc = manager.getEngine().newGradientCollector()) {
                if (scratch) {
                    Pair<NDArray, NDList> r = ((RNNModelScratch) net).forward(X, state);
                    yHat = r.getKey();
                    state = r.getValue();
                } else {
                    NDList in = new NDList(X);
                    if (state != null) {
                        in.addAll(state);
                    }
                    NDList r =
                            ((AbstractBlock) net).forward(new ParameterStore(manager, false), in, true);
                    yHat = r.get(0);
                    state = r.subNDList(1);
                }
                NDArray lossValue = loss.evaluate(new NDList(y), new NDList(yHat)).mean();
                gc.backward(lossValue);
                l = lossValue.getFloat();
                metric.add(new float[] {l * y.size(), y.size()});
            }
        }
        lastLoss = l;
        if (observer != null) {
            observer.afterForward(yHat, state, l);
            observer.afterBackward();
        }
        lastClip = Training.clipGradients(net, 1, childManager);
        if (observer != null) {
            observer.afterClipping(lastClip);
        }
        updater.apply(1, childManager); // 1: the loss is already a mean
        if (observer != null) {
            observer.afterUpdate();
        }
    }

    /** Ends the epoch: (perplexity, tokens/sec); frees the epoch's arrays. */
    public Pair<Double, Double> finish() {
        finished = true;
        Pair<Double, Double> result =
                new Pair<>(
                        Math.exp(metric.get(0) / metric.get(1)), metric.get(1) / watch.stop());
        childManager.close();
        return result;
    }
}
