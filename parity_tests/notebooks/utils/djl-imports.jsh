%maven ai.djl:api:0.35.1
%maven ai.djl.pytorch:pytorch-engine:0.35.1
%maven org.slf4j:slf4j-simple:2.0.17
// djl-parity's test helpers: the imports the chapter's cells rely on
import ai.djl.*;
import ai.djl.ndarray.*;
import ai.djl.ndarray.types.*;
import ai.djl.nn.*;
import ai.djl.nn.recurrent.*;
import ai.djl.training.*;
import ai.djl.util.*;
import java.io.*;
import java.net.*;
import java.util.*;
