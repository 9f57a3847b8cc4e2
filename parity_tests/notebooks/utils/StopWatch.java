import org.djlparity.d2l.StopWatch;
