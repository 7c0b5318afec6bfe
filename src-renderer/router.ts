import { createRouter, createWebHashHistory } from 'vue-router'
import ConnectionsView from './views/ConnectionsView.vue'
import ClusterOverviewView from './views/ClusterOverviewView.vue'

/** Routes. Hash history, so the same build works from file:// (Electron) and over HTTP (web mode). */
export const router = createRouter({
  history: createWebHashHistory(),
  routes: [
    { path: '/', redirect: '/connections' },
    { path: '/connections', name: 'connections', component: ConnectionsView },
    { path: '/clusters/:id', name: 'overview', component: ClusterOverviewView, props: true },
  ],
})
