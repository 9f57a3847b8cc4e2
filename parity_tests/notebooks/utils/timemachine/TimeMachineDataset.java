import org.djlparity.d2l.TimeMachineDataset;
