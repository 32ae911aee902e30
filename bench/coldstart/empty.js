// P5 floor: a Worker that answers without wasm and without any request (workerd's own start-up).
export default {
  async fetch() {
    return new Response("ok");
  },
};
