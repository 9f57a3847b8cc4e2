import org.djlparity.d2l.Training;
