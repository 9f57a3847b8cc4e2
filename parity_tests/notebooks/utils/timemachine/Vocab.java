import org.djlparity.d2l.Vocab;
