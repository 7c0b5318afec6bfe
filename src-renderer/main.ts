import { createApp } from 'vue'
import { createPinia } from 'pinia'
import App from './App.vue'
import { router } from './router'

const app = createApp(App)
app.use(createPinia())
app.use(router)
app.config.errorHandler = (error, _instance, info) => {
  console.error(`[quorum] unexpected error in ${info}:`, error)
}
app.mount('#app')
