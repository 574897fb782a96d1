{{/*
`helm test <release>`: one order through the real system. Seeds one unit of a fresh SKU on the
inventory service, places an order for it on the order service, waits (GET ?waitMs) until it is
processed, expects RESERVED, and checks the stock moved from available to reserved. Runs the
service's own image (it has node, no extra image to pull). Leaves one `helm-test-*` SKU and its order.
*/}}
{{- define "common.testPod" -}}
{{- if .Values.tests.enabled }}
apiVersion: v1
kind: Pod
metadata:
  name: {{ include "common.childName" (dict "root" . "suffix" "test-order") }}
  labels:
    {{- include "common.labels" (dict "root" . "component" "helm-test") | nindent 4 }}
  annotations:
    helm.sh/hook: test
    # Kept after a failure, so `kubectl logs` can say why; replaced by the next run.
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
  enableServiceLinks: false
  securityContext:
    {{- toYaml .Values.podSecurityContext | nindent 4 }}
  containers:
    - name: place-order
      image: {{ include "common.image" . | quote }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      args:
        - node
        - -e
        - |
          {{- include "common.testScript" . | nindent 10 }}
      env:
        - name: ORDER_URL
          value: {{ .Values.tests.orderUrl | default (include "common.selfUrl" .) | quote }}
        - name: INVENTORY_URL
          value: {{ .Values.tests.inventoryUrl | default (include "common.selfUrl" .) | quote }}
        - name: TEST_TIMEOUT_MS
          value: {{ mul (int64 .Values.tests.timeoutSeconds) 1000 | quote }}
      resources:
        requests:
          cpu: 50m
          memory: 64Mi
        limits:
          memory: 128Mi
      securityContext:
        {{- toYaml .Values.securityContext | nindent 8 }}
{{- end }}
{{- end }}

{{- define "common.testScript" -}}
const orderUrl = process.env.ORDER_URL;
const inventoryUrl = process.env.INVENTORY_URL;
const deadline = Date.now() + Number(process.env.TEST_TIMEOUT_MS || 120000);
const sku = 'helm-test-' + Date.now().toString(36) + '-' + Math.random().toString(36).slice(2, 8);
const log = (fields) => console.log(JSON.stringify({ time: new Date().toISOString(), ...fields }));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Retries while the services are still starting (refused connection, 5xx); any other answer but
// `expected` fails at once.
async function call(method, url, body, expected) {
  for (;;) {
    let status;
    let detail;
    try {
      const response = await fetch(url, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(40000),
      });
      status = response.status;
      detail = await response.text();
      if (status === expected) return JSON.parse(detail);
      if (status < 500) throw new Error(method + ' ' + url + ' answered ' + status + ': ' + detail);
    } catch (error) {
      if (status !== undefined && status < 500) throw error;
      detail = String(error && error.cause ? error.cause : error);
    }
    if (Date.now() > deadline) throw new Error(method + ' ' + url + ' did not answer ' + expected + ' in time; last: ' + (status || '') + ' ' + detail);
    log({ msg: 'retrying', method, url, status, detail: String(detail).slice(0, 200) });
    await sleep(2000);
  }
}

async function main() {
  await call('PUT', inventoryUrl + '/inventory/' + sku, { available: 1 }, 200);
  const placed = await call('POST', orderUrl + '/orders', { items: [{ sku, quantity: 1 }] }, 202);
  log({ msg: 'order placed', orderId: placed.orderId, sku });
  let order;
  for (;;) {
    order = await call('GET', orderUrl + '/orders/' + encodeURIComponent(placed.orderId) + '?waitMs=20000', undefined, 200);
    if (order.status !== 'PENDING') break;
    if (Date.now() > deadline) throw new Error('order ' + placed.orderId + ' still PENDING: is an inventory replica running on the same Redis?');
  }
  if (order.status !== 'RESERVED') throw new Error('order ' + placed.orderId + ' ended ' + order.status + ', expected RESERVED: ' + JSON.stringify(order));
  const stock = await call('GET', inventoryUrl + '/inventory/' + sku, undefined, 200);
  if (stock.available !== 0 || stock.reserved !== 1) throw new Error('stock of ' + sku + ' is ' + JSON.stringify(stock) + ', expected available 0, reserved 1');
  log({ msg: 'helm test passed: order processed exactly once', orderId: placed.orderId, status: order.status, processedBy: order.processedBy });
}

main().catch((error) => {
  console.error(JSON.stringify({ time: new Date().toISOString(), msg: 'helm test failed', error: String(error && error.message ? error.message : error) }));
  process.exit(1);
});
{{- end }}
