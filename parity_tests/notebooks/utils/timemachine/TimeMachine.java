// djl-parity's chapter-8 helpers (org.djlparity.d2l.TimeMachine) in the book's shape: trainCh8
// hands every 10th epoch's perplexity to the notebook's Animator, as the book's version does.
import org.djlparity.d2l.EpochListener;

public class TimeMachine {
    public static void trainCh8(Object net, ai.djl.training.dataset.RandomAccessDataset dataset,
            org.djlparity.d2l.Vocab vocab, int lr, int numEpochs, ai.djl.Device device,
            boolean useRandomIter, ai.djl.ndarray.NDManager manager)
            throws java.io.IOException, ai.djl.translate.TranslateException {
        Animator animator = new Animator();
        org.djlparity.d2l.TimeMachine.trainCh8(net, dataset, vocab, lr, numEpochs, device,
                useRandomIter, manager, (epoch, ppl, speed) -> {
                    if (EpochListener.isPlotPoint(epoch)) {
                        animator.add(epoch, (float) ppl, "ppl");
                        animator.show();
                    }
                });
    }
}
