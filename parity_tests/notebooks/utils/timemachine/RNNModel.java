import org.djlparity.d2l.RNNModel;
