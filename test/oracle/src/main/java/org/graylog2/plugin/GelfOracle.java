// In Graylog's package: DefaultMessageFactory's constructor is package-private.
package org.graylog2.plugin;

import com.codahale.metrics.MetricRegistry;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.Unpooled;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.graylog2.inputs.codecs.GelfChunkAggregator;
import org.graylog2.inputs.codecs.GelfDecoder;
import org.graylog2.inputs.codecs.gelf.GELFBulkDroppedMsgService;
import org.graylog2.inputs.diagnosis.InputDiagnosisMetrics;
import org.graylog2.plugin.inputs.codecs.CodecAggregator;
import org.graylog2.plugin.journal.RawMessage;

/**
 * Reads one request per line on stdin — {"payload": base64} for a whole GELF payload (plain, gzip
 * or zlib, as a TCP frame or HTTP body would carry it) or {"chunks": [base64, ...]} for UDP
 * datagrams — and answers one line on stdout: what Graylog 6.3's GelfDecoder (after its
 * GelfChunkAggregator for chunks) would index, with each field's Java type, or why it refused (the
 * decoder's exception, or an incomplete message Graylog drops before indexing). Payloads come
 * "from" 127.0.0.1, as an input passes the sender's address.
 */
public final class GelfOracle {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final InetAddress SENDER = InetAddress.getLoopbackAddress();

  public static void main(String[] args) throws Exception {
    MetricRegistry metrics = new MetricRegistry();
    GelfDecoder decoder = new GelfDecoder(new DefaultMessageFactory(), 8L * 1024 * 1024, StandardCharsets.UTF_8,
        new GELFBulkDroppedMsgService(new InputDiagnosisMetrics(metrics)));
    ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread thread = new Thread(r, "chunk-eviction");
      thread.setDaemon(true);
      return thread;
    });
    GelfChunkAggregator aggregator = new GelfChunkAggregator(scheduler, metrics);
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line = in.readLine(); line != null; line = in.readLine()) {
      if (line.isBlank()) continue;
      out.println(JSON.writeValueAsString(answer(JSON.readTree(line), decoder, aggregator)));
    }
  }

  private static ObjectNode answer(JsonNode request, GelfDecoder decoder, CodecAggregator aggregator) {
    ObjectNode result = JSON.createObjectNode();
    try {
      byte[] payload;
      if (request.has("chunks")) {
        payload = null;
        for (JsonNode chunk : request.get("chunks")) {
          CodecAggregator.Result step = aggregator.addChunk(Unpooled.wrappedBuffer(Base64.getDecoder().decode(chunk.asText())));
          if (!step.isValid()) return result.put("accepted", false).put("reason", "chunk refused by GelfChunkAggregator");
          if (step.getMessage() != null) {
            payload = new byte[step.getMessage().readableBytes()];
            step.getMessage().readBytes(payload);
          }
        }
        if (payload == null) return result.put("accepted", false).put("reason", "chunks incomplete");
      } else {
        payload = Base64.getDecoder().decode(request.get("payload").asText());
      }
      // As an input does: the sender's address travels with the payload (the source without a host).
      Optional<Message> decoded = decoder.decode(new RawMessage(payload, new InetSocketAddress(SENDER, 12201)));
      if (decoded.isEmpty()) return result.put("accepted", false).put("reason", "decoder returned no message");
      Message message = decoded.get();
      // Graylog drops an incomplete message (empty message or source) before indexing it.
      if (!message.isComplete()) return result.put("accepted", false).put("reason", "incomplete: dropped before indexing");
      result.put("accepted", true);
      ObjectNode indexed = result.putObject("message");
      indexed.put("source", message.getSource());
      indexed.put("message", message.getMessage());
      indexed.put("timestampMillis", message.getTimestamp().getMillis());
      ObjectNode fields = indexed.putObject("fields");
      ObjectNode types = indexed.putObject("types");
      for (Map.Entry<String, Object> field : new TreeMap<>(message.getFields()).entrySet()) {
        String key = field.getKey();
        if (key.equals("_id") || key.equals("message") || key.equals("source") || key.equals("timestamp")) continue;
        Object value = field.getValue();
        types.put(key, value == null ? "null" : value.getClass().getSimpleName());
        if (value instanceof Number number) fields.put(key, number.doubleValue());
        else fields.put(key, String.valueOf(value));
      }
      return result;
    } catch (Exception | Error e) {
      return result.put("accepted", false).put("reason", e.getClass().getSimpleName() + ": " + e.getMessage());
    }
  }
}
