package org.djlparity.d2l;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.recurrent.GRU;
import ai.djl.nn.recurrent.LSTM;
import ai.djl.nn.recurrent.RNN;
import ai.djl.nn.recurrent.RecurrentBlock;

import org.djlparity.fix.LayoutFixedLstm;

import java.util.List;

/** Builds the notebooks' models by name. */
public final class Models {

    /** The model names, in the order of the Python side's registry (djl_bridge/config.py; a test checks). */
    public static final List<String> KINDS =
            List.of(
                    "bilstm", "lstm", "deep-lstm", "gru", "rnn", "rnn-scratch", "gru-scratch",
                    "lstm-scratch", "birnn-hand");

    private Models() {}

    /**
     * Kinds: rnn, gru, lstm, deep-lstm, bilstm (concise RNNModel, layers as given) and
     * rnn-scratch, gru-scratch, lstm-scratch, birnn-hand. layoutFix swaps DJL's LSTM for {@link
     * LayoutFixedLstm} in bilstm, the one kind that needs it (unidirectional layers run as
     * published).
     */
    public static Object create(
            String kind,
            int vocabSize,
            int hidden,
            int layers,
            boolean layoutFix,
            Device device,
            NDManager manager) {
        return create(kind, vocabSize, hidden, layers, layoutFix, false, false, device, manager);
    }

    /** As above; bias and learnBoundary apply to birnn-hand ({@link BiRnnHand}) only. */
    public static Object create(
            String kind,
            int vocabSize,
            int hidden,
            int layers,
            boolean layoutFix,
            boolean bias,
            boolean learnBoundary,
            Device device,
            NDManager manager) {
        RecurrentBlock layer;
        switch (kind) {
            case "birnn-hand":
                return BiRnnHand.create(
                        vocabSize, hidden, bias, learnBoundary, DataType.FLOAT32, device, manager);
            case "rnn-scratch":
                return ScratchModels.rnn(vocabSize, hidden, device, manager);
            case "gru-scratch":
                return ScratchModels.gru(vocabSize, hidden, device, manager);
            case "lstm-scratch":
                return ScratchModels.lstm(vocabSize, hidden, device, manager);
            case "rnn":
                layer = notebookLayer(RNN.builder(), layers, hidden, false)
                        .setActivation(RNN.Activation.TANH)
                        .build();
                break;
            case "gru":
                layer = notebookLayer(GRU.builder(), layers, hidden, false).build();
                break;
            case "lstm":
            case "deep-lstm":
                layer = notebookLayer(LSTM.builder(), layers, hidden, false).build();
                break;
            case "bilstm":
                layer = layoutFix
                        ? notebookLayer(LayoutFixedLstm.builder(), layers, hidden, true).build()
                        : notebookLayer(LSTM.builder(), layers, hidden, true).build();
                break;
            default:
                throw new IllegalArgumentException(
                        "unknown model kind '" + kind + "'; known: " + String.join(", ", KINDS));
        }
        return new RNNModel(layer, vocabSize);
    }

    /** The notebook cell's layer settings: time-major input, the state returned. */
    private static <T extends RecurrentBlock.BaseBuilder<T>> T notebookLayer(
            T builder, int layers, int hidden, boolean bidirectional) {
        return builder.setNumLayers(layers)
                .setStateSize(hidden)
                .optReturnState(true)
                .optBatchFirst(false)
                .optBidirectional(bidirectional);
    }
}
