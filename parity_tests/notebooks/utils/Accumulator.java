import org.djlparity.d2l.Accumulator;
