package org.djlparity.fix;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.recurrent.RecurrentBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * An LSTM block with the same parameter names, shapes and creation order as DJL's {@code LSTM}
 * ({@code {l|r}_{layer}_{i2h|h2h}_{WEIGHT|BIAS}}, per layer all WEIGHTs then all BIASes), that
 * hands libtorch the parameters in the order libtorch's {@code lstm} expects: per layer and
 * direction (w_ih, w_hh, b_ih, b_hh).
 *
 * <p>DJL 0.35.1's LSTM passes its parameter list unchanged; for a bidirectional layer that puts
 * the reverse direction's weights where libtorch expects the forward direction's biases, and
 * the call fails. For a unidirectional layer the two orders coincide, so this block computes
 * exactly what DJL's LSTM computes. Used only when the layout fix is asked for: a deviation
 * from the original notebook, which cannot run its bidirectional LSTM on the PyTorch engine.
 */
public class LayoutFixedLstm extends RecurrentBlock {

    LayoutFixedLstm(Builder builder) {
        super(builder);
        gates = 4;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Parameter arrays in libtorch's order: per (layer, direction) w_ih, w_hh, b_ih, b_hh. */
    NDList torchOrder(ParameterStore store, Device device, boolean training) {
        String[] dirs = bidirectional ? new String[] {"l", "r"} : new String[] {"l"};
        String[] kinds = hasBiases ? new String[] {"WEIGHT", "BIAS"} : new String[] {"WEIGHT"};
        NDList out = new NDList();
        for (int layer = 0; layer < numLayers; layer++) {
            for (String dir : dirs) {
                for (String kind : kinds) {
                    for (String g : new String[] {"i2h", "h2h"}) {
                        Parameter p = parameters.get(dir + '_' + layer + '_' + g + '_' + kind);
                        out.add(store.getValue(p, device, training));
                    }
                }
            }
        }
        return out;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore parameterStore,
            NDList inputs,
            boolean training,
            PairList<String, Object> params) {
        NDArray input = inputs.head();
        Device device = input.getDevice();
        NDList rnnParams = torchOrder(parameterStore, device, training);
        Shape stateShape =
                new Shape(
                        (long) numLayers * getNumDirections(),
                        input.size(batchFirst ? 0 : 1),
                        stateSize);
        NDArray h = inputs.size() > 1 ? inputs.get(1) : input.getManager().zeros(stateShape);
        NDArray c = inputs.size() > 2 ? inputs.get(2) : input.getManager().zeros(stateShape);
        NDList outputs =
                input.getNDArrayInternal()
                        .lstm(
                                input,
                                new NDList(h, c),
                                rnnParams,
                                hasBiases,
                                numLayers,
                                dropRate,
                                training,
                                bidirectional,
                                batchFirst);
        if (returnState) {
            return outputs;
        }
        return new NDList(outputs.get(0));
    }

    /** Builder with DJL's LSTM builder options. */
    public static final class Builder extends BaseBuilder<Builder> {
        @Override
        protected Builder self() {
            return this;
        }

        public LayoutFixedLstm build() {
            if (stateSize <= 0 || numLayers <= 0) {
                throw new IllegalArgumentException("Must set stateSize and numLayers");
            }
            return new LayoutFixedLstm(this);
        }
    }
}
