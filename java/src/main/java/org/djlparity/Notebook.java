package org.djlparity;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;

import org.djlparity.d2l.EpochListener;
import org.djlparity.d2l.Models;
import org.djlparity.d2l.RNNModel;
import org.djlparity.d2l.TimeMachine;
import org.djlparity.d2l.TimeMachineDataset;
import org.djlparity.fix.LayoutFixedLstm;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * The notebook cell as a command line. Stdout carries exactly what the notebook prints;
 * progress (the Animator's every-10th-epoch points) goes to stderr.
 */
public final class Notebook {

    private Notebook() {}

    private static final String USAGE =
            "usage: Notebook --data PATH [--model bilstm|lstm|deep-lstm|gru|rnn|rnn-scratch|"
                    + "gru-scratch|lstm-scratch] [--epochs 500] [--lr 1] [--hidden 256]"
                    + " [--layers 2] [--batch-size 32] [--num-steps 35] [--max-tokens 10000]"
                    + " [--offset N] [--seed S] [--layout-fix]";

    private static void fail(String msg) {
        System.err.println("error: " + msg);
        System.exit(2);
    }

    private static int intArg(String name, String v) {
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            fail(name + " needs an integer, got '" + v + "'");
            return 0;
        }
    }

    public static void main(String[] args) throws Exception {
        String data = null;
        String model = "bilstm";
        int epochs = 500;
        int lr = 1;
        int hidden = 256;
        int layers = 2;
        int batchSize = 32;
        int numSteps = 35;
        int maxTokens = 10000;
        Integer offset = null;
        Integer seed = null;
        boolean layoutFix = false;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--help") || a.equals("-h")) {
                System.out.println(USAGE);
                return;
            }
            if (a.equals("--layout-fix")) {
                layoutFix = true;
                continue;
            }
            if (i + 1 >= args.length) {
                fail("missing value after " + a + "; " + USAGE);
            }
            String v = args[++i];
            switch (a) {
                case "--data": data = v; break;
                case "--model": model = v; break;
                case "--epochs": epochs = intArg(a, v); break;
                case "--lr": lr = intArg(a, v); break;
                case "--hidden": hidden = intArg(a, v); break;
                case "--layers": layers = intArg(a, v); break;
                case "--batch-size": batchSize = intArg(a, v); break;
                case "--num-steps": numSteps = intArg(a, v); break;
                case "--max-tokens": maxTokens = intArg(a, v); break;
                case "--offset": offset = intArg(a, v); break;
                case "--seed": seed = intArg(a, v); break;
                default: fail("unknown argument " + a + "; " + USAGE);
            }
        }
        if (data == null) {
            fail("--data PATH is required; " + USAGE);
        }
        Path file = Paths.get(data);
        if (!Files.isReadable(file)) {
            fail("cannot read data file " + file);
        }
        if (epochs < 0 || hidden <= 0 || layers <= 0 || batchSize <= 0 || numSteps <= 0) {
            fail("epochs, hidden, layers, batch-size and num-steps must be positive");
        }
        if (offset != null && (offset < 0 || offset >= numSteps)) {
            fail("--offset must be in [0, num-steps)");
        }
        if (seed != null) {
            Engine.getInstance().setRandomSeed(seed);
        }
        try (NDManager manager = NDManager.newBaseManager()) {
            Device device = Engine.getInstance().getGpuCount() > 0 ? Device.gpu(0) : Device.cpu();
            TimeMachineDataset.Builder b =
                    TimeMachineDataset.builder()
                            .setManager(manager)
                            .setMaxTokens(maxTokens)
                            .setSampling(batchSize, false)
                            .setSteps(numSteps)
                            .setDataFile(file);
            if (offset != null) {
                b.optOffset(offset);
            }
            TimeMachineDataset dataset = b.build();
            try {
                dataset.prepare(null);
            } catch (IndexOutOfBoundsException e) {
                fail(e.getMessage());
            }
            Object net;
            try {
                net = Models.create(model, dataset.getVocab().length(), hidden, layers,
                        layoutFix, device, manager);
            } catch (IllegalArgumentException e) {
                fail(e.getMessage());
                return;
            }
            System.err.printf("model %s, vocab %d, offset %d%n",
                    model, dataset.getVocab().length(), dataset.getOffset());
            EpochListener progress =
                    (epoch, ppl, speed) -> {
                        if (EpochListener.isPlotPoint(epoch) || epoch == 1) {
                            System.err.printf("epoch %d: perplexity %.4f, %.1f tokens/sec%n",
                                    epoch, ppl, speed);
                        }
                    };
            try {
                TimeMachine.trainCh8(net, dataset, dataset.getVocab(), lr, epochs, device, false,
                        manager, progress);
            } catch (RuntimeException e) {
                if (net instanceof RNNModel && isBidirectionalDjlLstm((RNNModel) net)) {
                    System.err.println("error: the notebook's bidirectional LSTM does not run on"
                            + " DJL's PyTorch engine: DJL passes its parameters per layer as all"
                            + " WEIGHTs then all BIASes, libtorch expects (w_ih, w_hh, b_ih, b_hh)"
                            + " per direction; rerun with --layout-fix. libtorch said: "
                            + firstLine(e.getMessage()));
                    System.exit(1);
                }
                throw e;
            }
        }
    }

    private static boolean isBidirectionalDjlLstm(RNNModel m) {
        return m.getRnnLayer() instanceof ai.djl.nn.recurrent.LSTM
                && !(m.getRnnLayer() instanceof LayoutFixedLstm)
                && m.getRnnLayer().getParameters().keys().stream().anyMatch(k -> k.startsWith("r_"));
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
