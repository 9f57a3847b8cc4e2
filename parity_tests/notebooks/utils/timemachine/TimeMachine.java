import org.djlparity.d2l.TimeMachine;
