package org.djlparity.bridge;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.dataset.RandomAccessDataset;
import ai.djl.translate.TranslateException;
import ai.djl.util.Pair;

import org.djlparity.d2l.BiRnnHand;
import org.djlparity.d2l.Ch8Epoch;
import org.djlparity.d2l.Ch8Setup;
import org.djlparity.d2l.Training;

import java.io.IOException;

/**
 * Training one batch at a time through the same code as TimeMachine.trainEpochCh8 ({@link
 * Ch8Epoch}), with loss and updater set up as trainCh8 does ({@link Ch8Setup}). Capture only
 * copies arrays; it changes nothing in the computation.
 */
public class TrainSession implements AutoCloseable {

    private final Object net;
    private final RandomAccessDataset dataset;
    private final Device device;
    private final boolean useRandomIter;
    private final NDManager manager;
    private final Ch8Setup setup;
    private Ch8Epoch epoch;
    private boolean capture;
    private boolean discardStopGradient;
    private StepRecord last;

    public TrainSession(
            Object net,
            RandomAccessDataset dataset,
            int lr,
            Device device,
            boolean useRandomIter,
            NDManager manager) {
        this.net = net;
        this.dataset = dataset;
        this.device = device;
        this.useRandomIter = useRandomIter;
        this.manager = manager;
        this.setup = Ch8Setup.create(net, lr, device, manager);
    }

    public void beginEpoch() throws IOException, TranslateException {
        if (epoch != null) {
            throw new IllegalStateException("endEpoch() was not called");
        }
        epoch =
                new Ch8Epoch(
                        net, dataset, setup.loss, setup.updater, device, useRandomIter, manager);
        epoch.setObserver(new Recorder());
        epoch.setDiscardStopGradient(discardStopGradient);
    }

    /** Train as published: the carried state's stopGradient() result is dropped (see Ch8Epoch). */
    public void setDiscardStopGradient(boolean discard) {
        this.discardStopGradient = discard;
    }

    /** Trains on the next batch; false when the epoch is exhausted. */
    public boolean step() {
        if (epoch == null) {
            throw new IllegalStateException("beginEpoch() first");
        }
        return epoch.step();
    }

    /** {perplexity, tokensPerSec} of the epoch. */
    public double[] endEpoch() {
        if (epoch == null) {
            throw new IllegalStateException("beginEpoch() first");
        }
        Pair<Double, Double> r = epoch.finish();
        epoch = null;
        return new double[] {r.getKey(), r.getValue()};
    }

    public float lastLoss() {
        return epoch == null ? Float.NaN : epoch.lastLoss();
    }

    /** What the last step's clipping measured (every step). */
    public Training.Clip lastClip() {
        return epoch == null ? null : epoch.lastClip();
    }

    public void setCapture(boolean capture) {
        this.capture = capture;
    }

    /** The last captured batch (null when capture was off). The caller closes it. */
    public StepRecord lastRecord() {
        return last;
    }

    @Override
    public void close() {
        setup.close();
    }

    private static NDArray copy(NDArray a, NDManager m) {
        NDArray d = a.stopGradient();
        NDArray c = d.duplicate();
        c.attach(m);
        d.close();
        return c;
    }

    private static NDList copy(NDList list, NDManager m) {
        NDList out = new NDList();
        if (list != null) {
            for (NDArray a : list) {
                out.add(copy(a, m));
            }
        }
        return out;
    }

    private NDList grads(NDManager m) {
        NDList out = new NDList();
        boolean handles = !(net instanceof BiRnnHand); // a hand model's gradients are its own
        for (NDArray g : Training.gradients(net)) {
            out.add(copy(g, m));
            if (handles) {
                g.close();
            }
        }
        return out;
    }

    private final class Recorder implements Ch8Epoch.Observer {
        private StepRecord rec;

        @Override
        public void afterForward(NDArray yHat, NDList stateOut, float loss) {
            if (!capture) {
                rec = null;
                return;
            }
            rec = new StepRecord();
            rec.manager = manager.newSubManager();
            rec.logits = copy(yHat, rec.manager);
            rec.stateOut = copy(stateOut, rec.manager);
            rec.loss = loss;
            rec.names = Params.names(net);
        }

        @Override
        public void afterBackward() {
            if (rec != null) {
                rec.gradsBefore = grads(rec.manager);
            }
        }

        @Override
        public void afterClipping(Training.Clip clip) {
            if (rec != null) {
                rec.gradNorm = clip.norm;
                rec.gradsAfter = grads(rec.manager);
            }
        }

        @Override
        public void afterUpdate() {
            if (rec != null) {
                rec.paramsAfter = copy(Training.parameterArrays(net), rec.manager);
                last = rec;
                rec = null;
            }
        }
    }
}
