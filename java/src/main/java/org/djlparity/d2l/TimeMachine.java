package org.djlparity.d2l;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.training.ParameterStore;
import ai.djl.training.dataset.RandomAccessDataset;
import ai.djl.training.loss.Loss;
import ai.djl.translate.TranslateException;
import ai.djl.util.Pair;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URL;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/** The Time Machine text helpers and the chapter-8 training loop (docs/notebook.md, "Training"). */
public final class TimeMachine {

    private TimeMachine() {}

    /**
     * Reads the file line by line ({@code BufferedReader.lines()}: \n, \r\n and \r end a line),
     * replaces every run of non-letters by one space, trims and lower-cases each line.
     */
    public static List<String> readTimeMachine(Path file) throws IOException {
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return clean(reader);
        }
    }

    /** The D2L data file's address, as the book's notebooks open it. */
    public static final String DATA_URL = "http://d2l-data.s3-accelerate.amazonaws.com/timemachine.txt";

    /** The book's form: the text read from {@link #DATA_URL} (djl-parity serves it from the local file). */
    public static List<String> readTimeMachine() throws IOException {
        try (BufferedReader reader = new BufferedReader(
                new InputStreamReader(new URL(DATA_URL).openStream(), StandardCharsets.UTF_8))) {
            return clean(reader);
        }
    }

    private static List<String> clean(BufferedReader reader) {
        return reader.lines()
                .map(line -> line.replaceAll("[^A-Za-z]+", " ").trim().toLowerCase())
                .collect(Collectors.toList());
    }

    /** Splits lines into "word" ({@code split(" ")}) or "char" ({@code split("")}) tokens. */
    public static List<List<String>> tokenize(List<String> lines, String token) {
        List<List<String>> out = new ArrayList<>();
        for (String line : lines) {
            if ("word".equals(token)) {
                out.add(Arrays.asList(line.split(" ")));
            } else if ("char".equals(token)) {
                out.add(Arrays.asList(line.split("")));
            } else {
                throw new IllegalArgumentException("unknown token type: " + token);
            }
        }
        return out;
    }

    /**
     * Character corpus and vocabulary. The corpus holds the indices of all non-empty tokens;
     * with {@code maxTokens > 0} only the first maxTokens (like the original's {@code subList},
     * this throws when the corpus is shorter, here with a message).
     */
    public static Pair<List<Integer>, Vocab> loadCorpusTimeMachine(Path file, int maxTokens)
            throws IOException {
        return corpusOf(file == null ? readTimeMachine() : readTimeMachine(file), maxTokens);
    }

    /** The book's form: the corpus of the text at {@link #DATA_URL}. */
    public static Pair<List<Integer>, Vocab> loadCorpusTimeMachine(int maxTokens) throws IOException {
        return loadCorpusTimeMachine(null, maxTokens);
    }

    private static Pair<List<Integer>, Vocab> corpusOf(List<String> lines, int maxTokens) {
        List<List<String>> tokens = tokenize(lines, "char");
        Vocab vocab = new Vocab(tokens, 0, new String[0]);
        List<Integer> corpus = new ArrayList<>();
        for (List<String> line : tokens) {
            for (String t : line) {
                if (!t.isEmpty()) {
                    corpus.add(vocab.getIdx(t));
                }
            }
        }
        if (maxTokens > 0) {
            if (maxTokens > corpus.size()) {
                throw new IndexOutOfBoundsException(
                        "maxTokens " + maxTokens + " exceeds the corpus length " + corpus.size());
            }
            corpus = new ArrayList<>(corpus.subList(0, maxTokens));
        }
        return new Pair<>(corpus, vocab);
    }

    /**
     * Greedy generation (docs/notebook.md, "Prediction"): warm up on the prefix, then append numPreds argmax
     * tokens. Concise models start without state; scratch models from beginState(1).
     */
    public static String predictCh8(
            String prefix,
            int numPreds,
            Object net,
            Vocab vocab,
            Device device,
            NDManager manager) {
        List<Integer> outputs = new ArrayList<>();
        outputs.add(vocab.getIdx("" + prefix.charAt(0)));
        NDList state = null;
        if (net instanceof RNNModelScratch) {
            state = ((RNNModelScratch) net).beginState(1, device);
        }
        try (NDManager sub = manager.newSubManager()) {
            for (char c : prefix.substring(1).toCharArray()) { // warm-up
                state = predictStep(net, lastInput(outputs, device, sub), state, sub).getValue();
                outputs.add(vocab.getIdx("" + c));
            }
            for (int i = 0; i < numPreds; i++) {
                Pair<NDArray, NDList> r =
                        predictStep(net, lastInput(outputs, device, sub), state, sub);
                state = r.getValue();
                outputs.add((int) r.getKey().argMax(1).reshape(new Shape(1)).getLong(0L));
            }
        }
        StringBuilder sb = new StringBuilder();
        for (int idx : outputs) {
            sb.append(vocab.toToken(idx));
        }
        return sb.toString();
    }

    private static NDArray lastInput(List<Integer> outputs, Device device, NDManager m) {
        return m.create(outputs.get(outputs.size() - 1))
                .toDevice(device, false)
                .reshape(new Shape(1, 1));
    }

    private static Pair<NDArray, NDList> predictStep(
            Object net, NDArray x, NDList state, NDManager m) {
        if (net instanceof RNNModelScratch) {
            return ((RNNModelScratch) net).forward(x, state);
        }
        NDList in = new NDList(x);
        if (state != null) {
            in.addAll(state);
        }
        NDList r = ((AbstractBlock) net).forward(new ParameterStore(m, false), in, false);
        return new Pair<>(r.get(0), r.subNDList(1));
    }

    /**
     * Trains for numEpochs and prints the final perplexity, speed and two predictions. The
     * listener (may be null) is called after every epoch.
     */
    public static void trainCh8(
            Object net,
            RandomAccessDataset dataset,
            Vocab vocab,
            int lr,
            int numEpochs,
            Device device,
            boolean useRandomIter,
            NDManager manager,
            EpochListener listener)
            throws IOException, TranslateException {
        Ch8Setup setup = Ch8Setup.create(net, lr, device, manager);
        double ppl = 0;
        double speed = 0;
        for (int epoch = 0; epoch < numEpochs; epoch++) {
            Pair<Double, Double> p =
                    trainEpochCh8(
                            net, dataset, setup.loss, setup.updater, device, useRandomIter,
                            manager);
            ppl = p.getKey();
            speed = p.getValue();
            if (listener != null) {
                listener.onEpoch(epoch + 1, ppl, speed);
            }
        }
        printResults(ppl, speed, net, vocab, device, manager);
    }

    /** What trainCh8 prints when training ends: the perplexity line and the two predictions. */
    public static void printResults(
            double ppl, double speed, Object net, Vocab vocab, Device device, NDManager manager) {
        System.out.format(
                "perplexity: %.1f, %.1f tokens/sec on %s%n", ppl, speed, device.toString());
        System.out.println(predictCh8("time traveller", 50, net, vocab, device, manager));
        System.out.println(predictCh8("traveller", 50, net, vocab, device, manager));
    }

    /** One epoch; returns (perplexity, tokens/sec). Runs {@link Ch8Epoch} batch by batch. */
    public static Pair<Double, Double> trainEpochCh8(
            Object net,
            RandomAccessDataset dataset,
            Loss loss,
            Updater updater,
            Device device,
            boolean useRandomIter,
            NDManager manager)
            throws IOException, TranslateException {
        Ch8Epoch epoch = new Ch8Epoch(net, dataset, loss, updater, device, useRandomIter, manager);
        while (epoch.step()) {
            // one batch per call
        }
        return epoch.finish();
    }
}
