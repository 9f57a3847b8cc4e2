import org.djlparity.d2l.RNNModelScratch;
