package org.djlparity.d2l;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.ndarray.NDManager;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.Trainer;
import ai.djl.training.evaluator.Accuracy;
import ai.djl.training.initializer.NormalInitializer;
import ai.djl.training.listener.TrainingListener;
import ai.djl.training.loss.Loss;
import ai.djl.training.loss.SoftmaxCrossEntropyLoss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;

/**
 * Loss and updater exactly as trainCh8 sets them up: scratch models use {@link Training#sgd};
 * concise models get a Model + Trainer with plain SGD at a fixed rate and N(0, 0.01) for every
 * WEIGHT parameter (the training config of the notebook). Shared by trainCh8 and the bridge's
 * TrainSession so both run the same code.
 */
public final class Ch8Setup implements AutoCloseable {

    public final Loss loss;
    public final Updater updater;
    private final Model model;
    private final Trainer trainer;

    private Ch8Setup(Loss loss, Updater updater, Model model, Trainer trainer) {
        this.loss = loss;
        this.updater = updater;
        this.model = model;
        this.trainer = trainer;
    }

    public static Ch8Setup create(Object net, int lr, Device device, NDManager manager) {
        Loss loss = new SoftmaxCrossEntropyLoss();
        if (net instanceof BiRnnHand) {
            BiRnnHand h = (BiRnnHand) net;
            return new Ch8Setup(
                    loss, (batchSize, sub) -> Training.sgd(h.getParams(), h.getGradients(), lr, batchSize),
                    null, null);
        }
        if (net instanceof RNNModelScratch) {
            RNNModelScratch s = (RNNModelScratch) net;
            return new Ch8Setup(
                    loss, (batchSize, sub) -> Training.sgd(s.getParams(), lr, batchSize, sub),
                    null, null);
        }
        Model model = Model.newInstance("model", device);
        model.setBlock((AbstractBlock) net);
        Tracker lrt = Tracker.fixed(lr);
        Optimizer sgd = Optimizer.sgd().setLearningRateTracker(lrt).build();
        DefaultTrainingConfig config =
                new DefaultTrainingConfig(loss)
                        .optOptimizer(sgd)
                        .optInitializer(new NormalInitializer(0.01f), Parameter.Type.WEIGHT)
                        .optDevices(new Device[] {device})
                        .addEvaluator(new Accuracy())
                        .addTrainingListeners(TrainingListener.Defaults.logging());
        Trainer trainer = model.newTrainer(config);
        return new Ch8Setup(loss, (batchSize, sub) -> trainer.step(), model, trainer);
    }

    /** Closes the Trainer and Model (the parameters live in the caller's manager). */
    @Override
    public void close() {
        if (trainer != null) {
            trainer.close();
        }
        if (model != null) {
            model.close();
        }
    }
}
